"""Summaries of the tuning data's held-back conversations: tuned paragraph vs extractive, same- and cross-language.

The held-back conversations (ids ending in 0) were never trained on; their reference summaries were written in the
training style, so this is an in-distribution check. It is the only measure here of summaries written in another
language than the conversation's (e.g. Arabizi → French), which no external dataset covers. ``tuned`` is the
model's own paragraph for every conversation (``--generator default``); ``auto`` is ``--generator auto`` (the model's
paragraph only where ``copilot.summarize.needs_model`` says the conversation is in another language than the summary,
or Darija; elsewhere the extractive one);
"in language" is the share of paragraphs detected in the summary language (Darija counts for Arabic, as in the
summary validator)::

    python -m benchmarks.held_summaries
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from collections import defaultdict

from benchmarks._common import save
from benchmarks.model import rouge_l
from copilot import Copilot, Settings
from copilot.lang import detect_language
from copilot.summarize import needs_model
from copilot.tune import DATA as TUNING
from copilot.tune import held_back


def in_language(text: str, language: str) -> float:
    ok = {"ar", "ary"} if language == "ar" else {language}
    return float(detect_language(text).code in ok)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=0, help="first N held-back conversations only (0 = all 130)")
    ap.add_argument(
        "--needs-model", action="store_true", help="only the conversations where auto uses the model (elsewhere it is extractive)"
    )
    args = ap.parse_args(argv)
    rows = [json.loads(x) for f in sorted((TUNING / "summaries").glob("*.jsonl")) for x in f.open(encoding="utf-8") if x.strip()]
    rows = [r for r in rows if held_back(r["id"])]
    if args.needs_model:
        rows = [r for r in rows if needs_model(r["language"], r["summary_language"])]
    rows = rows[: args.limit or None]
    settings = Settings.from_env(progress=False, summary_generator="default", summary_min_grounding=0)  # raw paragraphs
    cp = Copilot(settings, index_dir=tempfile.mkdtemp(), generator="transformers")
    paths = ("tuned", "extractive", "auto")
    res: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    texts: list[dict[str, object]] = []
    for r in rows:
        turns = [{"speaker": t["speaker"], "text": t["text"]} for t in r["turns"]]
        lang = r["summary_language"]
        tuned = cp.summarize_conversation(turns, language=lang, use_generator=True)
        ext = cp.summarize_conversation(turns, language=lang, use_generator=False)
        auto = tuned if needs_model(tuned.language, lang) else ext  # what auto does, without generating twice
        texts.append(
            {"id": r["id"], "language": r["language"], "summary_language": lang, "reference": r["summary"]}
            | {name: s.summary for name, s in zip(paths, (tuned, ext, auto))}
            | {"auto rejected": auto.rejected}
        )
        cross = lang != r["language"] and not (r["language"] == "ary" and lang == "ar")
        kind = "cross-language" if cross else "same language"
        for key in ((kind, r["language"]), (kind, "all"), ("all", "all")):
            for name, s in zip(paths, (tuned, ext, auto)):
                res[key][name].append(rouge_l(s.summary, [r["summary"]]))
                res[key][f"{name} in language"].append(in_language(s.summary, lang))
            res[key]["generated"].append(float(tuned.path == "generated"))
            res[key]["auto uses the model"].append(float(auto is tuned))
    cols = [f"ROUGE-L {p}" for p in paths] + [f"in language: {p}" for p in paths] + ["tuned kept", "auto: model"]
    print("| summary | conversation language | n | " + " | ".join(cols) + " |")
    print("|---|---|---" + "|---" * len(cols) + "|")
    for (kind, lang), v in sorted(res.items()):
        cells = [f"{statistics.mean(v[p]):.1f}" for p in paths] + [f"{statistics.mean(v[p + ' in language']):.2f}" for p in paths]
        cells += [f"{statistics.mean(v['generated']):.2f}", f"{statistics.mean(v['auto uses the model']):.2f}"]
        print(f"| {kind} | {lang} | {len(v['tuned'])} | " + " | ".join(cells) + " |")
    print(f"saved {save('held_summaries', texts)} (the paragraphs, to read by hand)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
