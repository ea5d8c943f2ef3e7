"""Reference ids for CanonicalEquivalenceTests: llama-tiny's tokenizer.json with five extra
tokens that are canonically equivalent in pairs but byte-different, and one merge ["e", U+0301]
(its second token a combining mark) first. The Swift test makes the same textual
edit; this prints the ids Hugging Face `tokenizers` gives. Usage: python3 canonical_pieces_ref.py FIXTURES"""
import json, sys, tempfile, os
from tokenizers import Tokenizer

EXTRA = ['\u03af', '\u1f77', '\u00e9', 'e\u0301', '\u0301']  # ids 4096...4100

def edited(text):
    vocab = '"vocab": {'
    i = text.index(vocab) + len(vocab)
    text = text[:i] + ''.join('%s: %d, ' % (json.dumps(p, ensure_ascii=False), 4096 + k) for k, p in enumerate(EXTRA)) + text[i:]
    merges = '"merges": ['
    j = text.index(merges) + len(merges)
    return text[:j] + json.dumps(['e', '\u0301'], ensure_ascii=False) + ', ' + text[j:]

src = open(os.path.join(sys.argv[1], 'llama-tiny', 'tokenizer.json'), encoding='utf-8').read()
with tempfile.TemporaryDirectory() as d:
    p = os.path.join(d, 'tokenizer.json')
    open(p, 'w', encoding='utf-8').write(edited(src))
    tok = Tokenizer.from_file(p)
    for t in ['\u03af', '\u1f77', '\u00e9', 'e\u0301', '\u03af\u1f77 \u00e9e\u0301 caf\u00e9 cafe\u0301']:
        print(json.dumps(t), tok.encode(t).ids, json.dumps(tok.decode(tok.encode(t).ids)))
