"""Fuzz benchmark: random hostile input through every CLI command, counting clean outcomes and crashes.

For each command, N seeded random inputs (control and zero-width characters, RTL/LTR mixes, emoji, huge
strings, invalid UTF-8, binary, malformed JSON/CSV rows, HTML with scripts, broken PDFs) go through
``copilot.cli.main`` in-process. An outcome is ``ok`` (exit 0), ``clear error`` (exit 1 with an
``Error:`` line) or ``crash`` (an exception escaping the CLI, or exit 1 without a clear message).

    python -m benchmarks.fuzz --n 300
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

from benchmarks._common import save, table
from copilot.cli import main as cli

PIECES = [
    "livraison",
    "فاتورة",
    "bghit n3ref",
    "¿envío?",
    "refund",
    "\u200b",
    "\u202e",
    "\u2066",
    "\x00",
    "\x1b[2J",
    "\ufeff",
    "🙂",
    "👨‍👩‍👧",
    "[1]",
    "[999]",
    "###",
    "<script>alert(1)</script>",
    "<!-- ignore -->",
    "Customer:",
    "Agent:",
    "{",
    "}",
    '"',
    "\\",
    "\n",
    "\r\n",
    "\t",
    "  ",
    "06 12 34 56 78",
    "SE-2026-123456",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "ｆｕｌｌｗｉｄｔｈ",
    "\u0301\u0301",
]


def random_text(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.05:
        return ""
    if kind < 0.1:
        return "x" * rng.choice([20_001, 1_000_000])
    if kind < 0.2:
        return "".join(chr(rng.randrange(1, 0x2FFFF)) for _ in range(rng.randrange(1, 200)) if not 0xD800 <= 0 < 0xE000)
    return "".join(rng.choice(PIECES) + rng.choice(["", " "]) for _ in range(rng.randrange(1, 30)))


def random_bytes(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.3:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000)))
    if kind < 0.5:
        return random_text(rng).encode("utf-8", "surrogatepass")[: rng.randrange(1, 5000)] + b"\xff\xfe"
    if kind < 0.7:
        return b"%PDF-1.4\n" + bytes(rng.randrange(256) for _ in range(500))
    return random_text(rng).encode("utf-8", "replace")


def _safe(s: str) -> str:
    return "".join(c for c in s if not 0xD800 <= ord(c) <= 0xDFFF)


def outcome(argv: list[str], stdin: bytes | None = None) -> str:
    out, err = io.StringIO(), io.StringIO()
    old_in = sys.stdin
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli(argv)
    except SystemExit as e:  # argparse usage errors
        code = 2 if e.code else 0
    except Exception:
        return "crash"
    finally:
        sys.stdin = old_in
    if code == 0:
        return "ok"
    if code in (1, 2) and ("Error:" in err.getvalue() or "usage:" in err.getvalue()):
        return "clear error"
    return "crash"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="fuzz-"))
    kb = work / "kb"
    kb.mkdir()
    (kb / "a.md").write_text("---\nid: a\ntitle: Livraison\nlanguage: fr\n---\nLa livraison coûte 25 MAD.\n", encoding="utf-8")
    idx = str(work / "index")
    assert cli(["index", str(kb), "--index", idx, "--embedder", "hashing", "--no-progress"]) == 0
    results: dict[str, Counter[str]] = {}
    for i in range(args.n):
        text = _safe(random_text(rng))
        cases: list[tuple[str, list[str], bytes | None]] = [
            ("search", ["search", "--index", idx, "--json", text], None),
            ("reply", ["reply", "--index", idx, "--generator", "none", "--no-progress", text], None),
            ("reply (stdin bytes)", ["reply", "--index", idx, "--generator", "none", "--no-progress", "-"], random_bytes(rng)),
            (
                "rewrite",
                [
                    "rewrite",
                    "--index",
                    idx,
                    "--generator",
                    "none",
                    "--style",
                    rng.choice(["shorter", "formal", "empathetic"]),
                    text,
                ],
                None,
            ),
            (
                "translate",
                ["rewrite", "--index", idx, "--generator", "none", "--translate", rng.choice(["fr", "en", "ar", "xx"]), text],
                None,
            ),
        ]
        f = work / f"in{i}"
        rows = "\n".join(
            rng.choice(
                [
                    json.dumps({"id": str(j), "text": _safe(random_text(rng))}, ensure_ascii=False),
                    json.dumps(
                        {
                            "id": str(j),
                            "turns": [{"speaker": rng.choice(["customer", "agent", 3, None]), "text": _safe(random_text(rng))}],
                        }
                    ),
                    _safe(random_text(rng))[:200],
                    json.dumps([1, 2]),
                    json.dumps({"id": None, "turns": "nope"}),
                ]
            )
            for j in range(3)
        )
        f.with_suffix(".jsonl").write_text(rows, encoding="utf-8", errors="replace")
        f.with_suffix(".bin").write_bytes(random_bytes(rng))
        summary_out = ["--no-progress", "--output", str(work / "s.jsonl"), "--overwrite"]
        cases += [
            (
                "reply batch",
                [
                    "reply",
                    "--index",
                    idx,
                    "--generator",
                    "none",
                    "--no-progress",
                    "--input",
                    str(f.with_suffix(".jsonl")),
                    "--output",
                    str(work / "o.jsonl"),
                    "--overwrite",
                ],
                None,
            ),
            *(
                (
                    f"summarize {kind}",
                    ["summarize", str(f.with_suffix(suffix)), "--generator", "none", "--embedder", "hashing", *summary_out],
                    None,
                )
                for kind, suffix in (("batch", ".jsonl"), ("binary", ".bin"))
            ),
            ("redact", ["redact", str(f.with_suffix(".bin"))], None),
        ]
        if i % 10 == 0:  # ingestion of broken files (slower: rebuilds a small index)
            bad = work / f"badkb{i}"
            bad.mkdir()
            (bad / "x.html").write_bytes(b"<html><script>x</script><!-- y -->" + random_bytes(rng) + b"</html>")
            (bad / "y.pdf").write_bytes(b"%PDF-1.4\n" + random_bytes(rng))
            (bad / "z.csv").write_bytes(b'id,title,answer\n1,"unterminated\n' + random_bytes(rng))
            (bad / "w.md").write_bytes(b"---\n: : :\n---\n" + random_bytes(rng))
            cases.append(
                (
                    "index broken files",
                    ["index", str(bad), "--index", str(work / f"idx{i}"), "--embedder", "hashing", "--no-progress"],
                    None,
                )
            )
        for name, argv_, stdin in cases:
            results.setdefault(name, Counter())[outcome(argv_, stdin)] += 1
    rows_out = [[k, sum(v.values()), v["ok"], v["clear error"], v["crash"]] for k, v in results.items()]
    print(table(["command", "cases", "ok", "clear error", "crash"], rows_out))
    total_crash = sum(v["crash"] for v in results.values())
    print(f"\n{sum(sum(v.values()) for v in results.values())} runs, {total_crash} crashes")
    save("fuzz", {k: dict(v) for k, v in results.items()})
    return 1 if total_crash else 0


if __name__ == "__main__":
    raise SystemExit(main())
