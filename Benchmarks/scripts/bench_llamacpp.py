"""llama.cpp baseline of prune-bench-runtime (llama-cpp-python's bindings to libllama; never in CI).

  python bench_llamacpp.py MODEL.gguf WORK.json

WORK.json as for bench_torch.py. The prompt batch is one llama_decode of all prompts as separate
sequences (logits of each last position only); generation decodes one token at a time after the
generation prompt, greedy (argmax of the logits). llama.cpp's defaults otherwise (mmap, f16 KV cache).
Prints one JSON object with best-of-reps seconds and the generated ids.

  python bench_llamacpp.py --whole MODEL.gguf PROMPT.txt NEW_TOKENS THREADS

The whole-process case (as prune-generate runs): load, tokenize the text (BOS as the model adds it),
one llama_decode of the prompt, then NEW_TOKENS − 1 greedy tokens one at a time (end tokens do not
stop it). Prints {"prompt_tokens", "new_tokens", "gen_seconds"} (gen_seconds: the NEW_TOKENS − 1
steps after the prompt's pass, timed in the process, as prune-generate --timings reports them); the
caller times the whole process for the prompt figure.
"""
import ctypes
import json
import sys
import time

import numpy as np


_LOG_SINK = None


def _quiet(L):
    """Silences libllama's log (the callback is kept alive for the life of the process)."""
    global _LOG_SINK
    _LOG_SINK = L.llama_log_callback(lambda level, text, data: None)
    L.llama_log_set(_LOG_SINK, ctypes.c_void_p(0))


def main(path, work_path):
    with open(work_path) as f:
        work = json.load(f)
    import llama_cpp as L
    L.llama_backend_init()
    _quiet(L)
    mparams = L.llama_model_default_params()
    model = L.llama_model_load_from_file(path.encode(), mparams)
    if not model:
        raise SystemExit(f"llama.cpp could not load {path}")
    vocab = L.llama_model_get_vocab(model)
    n_vocab = L.llama_vocab_n_tokens(vocab)
    prompts = work["prompts"]
    total = sum(len(p) for p in prompts)
    cparams = L.llama_context_default_params()
    cparams.n_ctx = max(total, len(work["gen_prompt"]) + work["gen_tokens"]) + 64
    cparams.n_batch = max(512, total)
    cparams.n_ubatch = max(512, total)
    cparams.n_seq_max = len(prompts)
    cparams.kv_unified = True
    cparams.n_threads = work["threads"]
    cparams.n_threads_batch = work["threads"]
    ctx = L.llama_init_from_model(model, cparams)
    mem = L.llama_get_memory(ctx)
    batch = L.llama_batch_init(max(total, 1), 0, len(prompts))

    def fill(seqs):
        """seqs: [(seq_id, ids, first_position)]; logits for the last token of each."""
        n = 0
        for s, ids, p0 in seqs:
            for j, t in enumerate(ids):
                batch.token[n] = t
                batch.pos[n] = p0 + j
                batch.n_seq_id[n] = 1
                batch.seq_id[n][0] = s
                batch.logits[n] = j == len(ids) - 1
                n += 1
        batch.n_tokens = n

    def decode():
        if L.llama_decode(ctx, batch) != 0:
            raise SystemExit("llama_decode failed")
        L.llama_synchronize(ctx)

    def prompt_pass():
        L.llama_memory_clear(mem, True)
        fill([(s, p, 0) for s, p in enumerate(prompts)])
        t0 = time.perf_counter()
        decode()
        return time.perf_counter() - t0

    def argmax_last():
        row = np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
        return int(row.argmax())

    def generate():
        L.llama_memory_clear(mem, True)
        p = work["gen_prompt"]
        fill([(0, p, 0)])
        decode()
        token = argmax_last()
        produced = [token]
        t0 = time.perf_counter()
        for k in range(work["gen_tokens"] - 1):
            fill([(0, [token], len(p) + k)])
            decode()
            token = argmax_last()
            produced.append(token)
        return time.perf_counter() - t0, produced

    prompt_pass()  # warm-up (also faults the mapped weights in)
    best_prompt = min(prompt_pass() for _ in range(work["reps"]))
    generate()
    gens = [generate() for _ in range(work["reps"])]
    print(json.dumps({"prompt_seconds": best_prompt, "gen_seconds": min(g[0] for g in gens),
                      "gen_steps": work["gen_tokens"] - 1, "gen_ids": gens[0][1],
                      "threads": work["threads"], "version": L.__version__}))
    L.llama_batch_free(batch)
    L.llama_free(ctx)
    L.llama_model_free(model)


def whole(path, text_path, new_tokens, threads):
    import llama_cpp as L
    L.llama_backend_init()
    _quiet(L)
    model = L.llama_model_load_from_file(path.encode(), L.llama_model_default_params())
    if not model:
        raise SystemExit(f"llama.cpp could not load {path}")
    vocab = L.llama_model_get_vocab(model)
    n_vocab = L.llama_vocab_n_tokens(vocab)
    text = open(text_path, encoding="utf-8").read().encode()
    ids = (L.llama_token * (len(text) + 16))()
    n = L.llama_tokenize(vocab, text, len(text), ids, len(ids), True, False)
    if n < 0:
        raise SystemExit("llama_tokenize failed")
    cparams = L.llama_context_default_params()
    cparams.n_ctx = n + new_tokens + 64
    cparams.n_batch = max(512, n)
    cparams.n_ubatch = max(512, n)
    cparams.n_threads = threads
    cparams.n_threads_batch = threads
    ctx = L.llama_init_from_model(model, cparams)
    batch = L.llama_batch_init(max(n, 1), 0, 1)

    def run(tokens, p0):
        for j, t in enumerate(tokens):
            batch.token[j] = t
            batch.pos[j] = p0 + j
            batch.n_seq_id[j] = 1
            batch.seq_id[j][0] = 0
            batch.logits[j] = j == len(tokens) - 1
        batch.n_tokens = len(tokens)
        if L.llama_decode(ctx, batch) != 0:
            raise SystemExit("llama_decode failed")
        row = np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
        return int(row.argmax())

    token = run([ids[i] for i in range(n)], 0)
    t0 = time.perf_counter()
    for k in range(new_tokens - 1):
        token = run([token], n + k)
    gen = time.perf_counter() - t0
    print(json.dumps({"prompt_tokens": n, "new_tokens": new_tokens, "gen_seconds": gen}))


if __name__ == "__main__":
    if sys.argv[1] == "--whole":
        whole(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        main(*sys.argv[1:3])
