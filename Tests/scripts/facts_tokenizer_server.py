"""Line protocol tokenizer for the fact-engine tests: the Hugging Face tokenizer of MODEL_DIR
(transformers' AutoTokenizer, the reference's own tokenization, BOS handling included).

  stdin:  {"encode": "text"} or {"decode": [ids]}, one JSON object a line
  stdout: {"ids": [...]} or {"text": "..."}, one line each
"""
import json
import sys

from transformers import AutoTokenizer

tok = AutoTokenizer.from_pretrained(sys.argv[1])
for line in sys.stdin:
    req = json.loads(line)
    if "encode" in req:
        out = {"ids": tok(req["encode"])["input_ids"]}
    else:
        out = {"text": tok.decode(req["decode"])}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
