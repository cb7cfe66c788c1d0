"""Summaries of the tuning data's held-back conversations: tuned paragraph vs extractive, same- and cross-language.

The held-back conversations (ids ending in 0) were never trained on; their reference summaries were written in the
training style, so this is an in-distribution check. It is the only measure here of summaries written in another
language than the conversation's (e.g. Arabizi → French), which no external dataset covers::

    python -m benchmarks.held_summaries
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from collections import defaultdict

from benchmarks.model import rouge_l
from copilot import Copilot, Settings
from copilot.tune import DATA as TUNING
from copilot.tune import held_back


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=0, help="first N held-back conversations only (0 = all 130)")
    args = ap.parse_args(argv)
    rows = [json.loads(x) for f in sorted((TUNING / "summaries").glob("*.jsonl")) for x in f.open(encoding="utf-8") if x.strip()]
    rows = [r for r in rows if held_back(r["id"])][: args.limit or None]
    settings = Settings.from_env(progress=False, summary_generator="default")
    cp = Copilot(settings, index_dir=tempfile.mkdtemp(), generator="transformers")
    res: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: {"tuned": [], "extractive": [], "generated": []})
    for r in rows:
        turns = [{"speaker": t["speaker"], "text": t["text"]} for t in r["turns"]]
        lang = r["summary_language"]
        tuned = cp.summarize_conversation(turns, language=lang, use_generator=True)
        ext = cp.summarize_conversation(turns, language=lang, use_generator=False)
        cross = lang != r["language"] and not (r["language"] == "ary" and lang == "ar")
        kind = "cross-language" if cross else "same language"
        for key in ((kind, r["language"]), (kind, "all"), ("all", "all")):
            res[key]["tuned"].append(rouge_l(tuned.summary, [r["summary"]]))
            res[key]["extractive"].append(rouge_l(ext.summary, [r["summary"]]))
            res[key]["generated"].append(float(tuned.path == "generated"))
    print("| summary | conversation language | n | ROUGE-L tuned | ROUGE-L extractive | generated share |")
    print("|---|---|---|---|---|---|")
    for (kind, lang), v in sorted(res.items()):
        n = len(v["tuned"])
        print(
            f"| {kind} | {lang} | {n} | {statistics.mean(v['tuned']):.1f} | {statistics.mean(v['extractive']):.1f} "
            f"| {statistics.mean(v['generated']):.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
