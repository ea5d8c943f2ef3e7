"""torch baseline of prune-bench-runtime (CPU, f32; run from the benchmark, never in CI).

  python bench_torch.py HF_FOLDER WORK.json

WORK.json: {"threads", "reps", "prompts": [[ids]...] (prompt processing, one batch), "gen_prompt": [ids],
"gen_tokens"}. Prints one JSON object: best-of-reps seconds of the prompt batch (logits of the last
position only, as prune computes them), of `gen_tokens` greedy decoding steps with the KV cache after
the generation prompt, and the generated ids.
"""
import json
import sys
import time


def main(folder, work_path):
    with open(work_path) as f:
        work = json.load(f)
    import torch
    import transformers
    torch.set_num_threads(work["threads"])
    torch.set_num_interop_threads(1)
    transformers.logging.set_verbosity_error()
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model.eval()
    reps = work["reps"]
    batch = torch.tensor(work["prompts"], dtype=torch.long)

    def prompt_pass():
        with torch.inference_mode():
            model(batch, logits_to_keep=1, use_cache=False)

    def generate():
        ids = torch.tensor([work["gen_prompt"]], dtype=torch.long)
        with torch.inference_mode():
            cache = transformers.DynamicCache(config=model.config)
            out = model(ids, cache=cache, use_cache=True, logits_to_keep=1)
            token = int(out.logits[0, -1].argmax())
            produced = [token]
            t0 = time.perf_counter()
            for _ in range(work["gen_tokens"] - 1):
                out = model(torch.tensor([[token]]), cache=cache, use_cache=True)
                token = int(out.logits[0, -1].argmax())
                produced.append(token)
            return time.perf_counter() - t0, produced

    prompt_pass()  # warm-up
    best_prompt = min(timed(prompt_pass) for _ in range(reps))
    generate()
    gens = [generate() for _ in range(reps)]
    best_gen = min(g[0] for g in gens)
    print(json.dumps({"prompt_seconds": best_prompt, "gen_seconds": best_gen,
                      "gen_steps": work["gen_tokens"] - 1, "gen_ids": gens[0][1],
                      "threads": torch.get_num_threads(), "version": torch.__version__}))


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main(*sys.argv[1:3])
