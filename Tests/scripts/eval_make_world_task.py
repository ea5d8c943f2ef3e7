"""Makes a multiple-choice task of a fixture's world.json: the facts of the people whom the first
100 requests of requests.json do not edit, one question per (person, relation), the choices being
every value the relation takes in the world, the prompt the requests' own template.

  python3 Tests/scripts/eval_make_world_task.py FIXTURE_DIR OUT.jsonl
"""
import json
import sys

fixture, out = sys.argv[1], sys.argv[2]
world = json.load(open(f"{fixture}/world.json"))
requests = json.load(open(f"{fixture}/requests.json"))
templates = {}
for r in requests:
    rw = r["requested_rewrite"]
    templates.setdefault(rw["relation"], rw["prompt"])
edited = {r["requested_rewrite"]["subject"] for r in requests[:100]}
relations = ["city", "profession", "language"]
objects = {rel: sorted({p[rel] for p in world}) for rel in relations}
with open(out, "w") as f:
    for p in world:
        if p["name"] in edited:
            continue
        for rel in relations:
            choices = objects[rel]
            q = {"prompt": templates[rel].format(p["name"]), "choices": choices, "answer": choices.index(p[rel])}
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
