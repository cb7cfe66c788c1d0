"""Validate the parallel customer-message TSV files in this folder.

Checks: exact header, 8 tab-separated fields per row, no empty cells,
no leading/trailing whitespace, ids unique across all parts, known domains,
Arabic script in darija/msa, no Arabic script in arabizi/fr/en/es.
Run: python validate.py
"""
import collections
import glob
import os
import re
import sys

HEADER = "id\tdomain\tdarija\tarabizi\tmsa\tfr\ten\tes"
DOMAINS = {"banking", "telecom", "ecommerce", "general"}
ARABIC = re.compile("[\u0600-\u06FF]")


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    files = sorted(glob.glob(os.path.join(here, "part*.tsv")))
    errors, ids, domains, per_file = [], set(), collections.Counter(), {}
    for path in files:
        name = os.path.basename(path)
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().rstrip("\n").split("\n")
        if lines[0] != HEADER:
            errors.append(f"{name}: bad header")
        n = 0
        for lineno, line in enumerate(lines[1:], start=2):
            cells = line.split("\t")
            if len(cells) != 8:
                errors.append(f"{name}:{lineno}: {len(cells)} fields")
                continue
            rid, dom, darija, arabizi, msa, fr, en, es = cells
            if any(not c.strip() for c in cells):
                errors.append(f"{name}:{lineno}: empty cell")
            if any(c != c.strip() for c in cells) or "\r" in line:
                errors.append(f"{name}:{lineno}: stray whitespace")
            if rid in ids:
                errors.append(f"{name}:{lineno}: duplicate id {rid}")
            if dom not in DOMAINS:
                errors.append(f"{name}:{lineno}: unknown domain {dom}")
            if not ARABIC.search(darija) or not ARABIC.search(msa):
                errors.append(f"{name}:{lineno}: darija/msa without Arabic script")
            if any(ARABIC.search(c) for c in (arabizi, fr, en, es)):
                errors.append(f"{name}:{lineno}: Arabic script in a Latin column")
            ids.add(rid)
            domains[dom] += 1
            n += 1
        per_file[name] = n
    total = sum(per_file.values())
    for name, n in per_file.items():
        print(f"{name}\t{n}")
    print(f"total\t{total}")
    for dom in sorted(domains):
        print(f"{dom}\t{domains[dom]}\t{100 * domains[dom] / total:.1f}%")
    for e in errors:
        print("ERROR", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
