"""PII redaction benchmark on ``tests/data/pii_labelled.jsonl`` (184 lines written for the project, 6 language codes).

Per type: recall (labelled values no longer visible after redaction) and precision (placeholders of that type
that cover a labelled value of that type). Over all lines: the share of facts that must stay (order numbers,
amounts, dates, codes) that survive, and the share of non-PII word tokens masked.

    python -m benchmarks.pii
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from benchmarks._common import save, table
from copilot.pii import Redactor

SETS = {
    "development (rules tuned on it)": Path(__file__).resolve().parent.parent / "tests" / "data" / "pii_labelled.jsonl",
    "held-out (written separately, never used to tune)": Path(__file__).resolve().parent.parent
    / "tests"
    / "data"
    / "pii_heldout.jsonl",
}
STRUCTURED = ("EMAIL", "PHONE", "IBAN", "CARD", "CIN", "NIR", "IP", "URL_TOKEN")
PLACEHOLDER_TYPE = {"URL": "URL_TOKEN"}


def main() -> int:
    report = {}
    for name, path in SETS.items():
        print(f"\n## {name}: {path.name}\n")
        report[name] = evaluate([json.loads(x) for x in path.open(encoding="utf-8")])
    save("pii", report)
    return 0


def evaluate(rows: list[dict]) -> dict:  # type: ignore[type-arg]
    tot, hit, masked, correct = Counter(), Counter(), Counter(), Counter()
    kept = keeps = nonpii = nonpii_masked = 0
    per_lang: dict[str, Counter[str]] = {}
    for r in rows:
        red = Redactor()
        out = red.redact(r["text"])
        lang = per_lang.setdefault(r["language"], Counter())
        for p in r["pii"]:
            tot[p["type"]] += 1
            lang["pii"] += 1
            if p["value"] not in out:
                hit[p["type"]] += 1
                lang["found"] += 1
        for ph, value in red.mapping.items():
            kind = PLACEHOLDER_TYPE.get(ph[1:].rsplit("_", 1)[0], ph[1:].rsplit("_", 1)[0])
            masked[kind] += 1
            if any(p["type"] == kind and (value in p["value"] or p["value"] in value) for p in r["pii"]):
                correct[kind] += 1
        for k in r["keep"]:
            keeps += 1
            kept += k in out
        rest = r["text"]
        for p in r["pii"]:
            rest = rest.replace(p["value"], " ")
        words = re.findall(r"\w+", rest)
        nonpii += len(words)
        out_words = Counter(re.findall(r"\w+", out))
        src_words = Counter(words)
        nonpii_masked += sum(max(0, c - out_words[w]) for w, c in src_words.items())
    types = sorted(set(tot) | set(masked))
    table_rows = [
        [t, tot[t], hit[t] / tot[t] if tot[t] else float("nan"), correct[t] / masked[t] if masked[t] else float("nan")]
        for t in types
    ]
    print(table(["type", "labelled", "recall", "precision"], table_rows))
    s_tot = sum(tot[t] for t in STRUCTURED)
    s_hit = sum(hit[t] for t in STRUCTURED)
    print(
        f"\nstructured types recall: {s_hit / s_tot:.3f} ({s_hit}/{s_tot}); facts kept: {kept / keeps:.3f} ({kept}/{keeps}); "
        f"non-PII tokens masked: {nonpii_masked / nonpii:.4f} ({nonpii_masked}/{nonpii})"
    )
    print(
        "\nrecall per language: " + ", ".join(f"{k} {v['found'] / v['pii']:.3f}" for k, v in sorted(per_lang.items()) if v["pii"])
    )
    save(
        "pii",
        {
            "per_type": {
                t: {
                    "n": tot[t],
                    "recall": hit[t] / tot[t] if tot[t] else None,
                    "precision": correct[t] / masked[t] if masked[t] else None,
                }
                for t in types
            },
            "structured_recall": s_hit / s_tot,
            "kept": kept / keeps,
            "non_pii_masked": nonpii_masked / nonpii,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
