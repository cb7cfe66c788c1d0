"""The grounding gate for generated summary paragraphs: which threshold keeps the model's paragraph only when it helps.

For each conversation the tuned model writes its paragraph once (cached in ``benchmarks/out/summary_gate_raw.jsonl``,
keyed by set, id and model), then every threshold of ``--thresholds`` is applied offline: the paragraph is kept when
:func:`copilot.summarize.summary_problems` finds nothing with that ``min_grounding``, else the extractive paragraph
stands. ROUGE-L against the references (best of several for TweetSumm) per set, and the share kept.

Sets, all in the conversation's language (the gate only applies there): TweetSumm 100-199 (``tweetsumm-design``:
the slice the threshold is chosen on, with the held-back tuning conversations), TweetSumm 200-599 (held out),
DialogSum dev, TODSum, and the tuning data's held-back same-language conversations (``held-back``, references
written in the training style)::

    python -m benchmarks.summary_gate --design 100 --n 100 --n-other 30
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from typing import Any

from benchmarks._common import OUT, need_data, save
from benchmarks.model import rouge_l
from benchmarks.summaries import load
from copilot import Copilot, Settings
from copilot.lang import detect_language
from copilot.pii import Redactor
from copilot.summarize import needs_model, parse_conversation, summary_grounding, summary_paragraph, summary_problems
from copilot.templates import reply_language
from copilot.tune import DATA as TUNING
from copilot.tune import held_back

RAW = OUT / "summary_gate_raw.jsonl"


def held_back_rows(limit: int) -> list[tuple[str, Any, list[str], str]]:
    rows = [json.loads(x) for f in sorted((TUNING / "summaries").glob("*.jsonl")) for x in f.open(encoding="utf-8") if x.strip()]
    rows = [r for r in rows if held_back(r["id"]) and not needs_model(r["language"], r["summary_language"])]
    return [(r["id"], r["turns"], [r["summary"]], r["summary_language"]) for r in rows[: limit or None]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--design", type=int, default=100, help="TweetSumm conversations from 100 (threshold design slice)")
    ap.add_argument("--n", type=int, default=100, help="TweetSumm conversations from 200 (held out)")
    ap.add_argument("--n-other", type=int, default=30, help="DialogSum and TODSum conversations")
    ap.add_argument("--held", type=int, default=0, help="held-back tuning conversations (0 = all same-language ones)")
    ap.add_argument("--thresholds", default="0,0.5,0.6,0.7,0.75,0.8,0.85,0.9,0.95,1.01")
    ap.add_argument("--adapter", default="", help="adapter folder (default: the settings' adapter)")
    args = ap.parse_args(argv)
    need_data("tweetsumm", "dialogsum", "todsum")
    sets: dict[str, list[tuple[str, Any, list[str], str]]] = {
        "tweetsumm-design": [(i, c, r, "") for i, c, r in load("tweetsumm", args.design, 100)],
        "tweetsumm": [(i, c, r, "") for i, c, r in load("tweetsumm", args.n, 200)],
        "dialogsum": [(i, c, r, "") for i, c, r in load("dialogsum", args.n_other)],
        "todsum": [(i, c, r, "") for i, c, r in load("todsum", args.n_other)],
        "held-back": held_back_rows(args.held),
    }
    overrides: dict[str, Any] = {"progress": False}
    if args.adapter:
        overrides["adapter"] = args.adapter
    settings = Settings.from_env(**overrides)
    cp = Copilot(settings, index_dir=tempfile.mkdtemp(), generator="transformers")
    cache: dict[str, dict[str, Any]] = {}
    if RAW.exists():
        for line in RAW.open(encoding="utf-8"):
            rec = json.loads(line)
            cache[rec["key"]] = rec
    OUT.mkdir(parents=True, exist_ok=True)
    thresholds = [float(x) for x in args.thresholds.split(",")]
    results: dict[str, Any] = {}
    texts: list[dict[str, Any]] = []
    for name, rows in sets.items():
        per: dict[str, list[float]] = {f"gate {t:g}": [] for t in thresholds}
        kept: dict[str, list[float]] = {f"gate {t:g}": [] for t in thresholds}
        per["extractive"], per["model"] = [], []
        for cid, conv, refs, lang in rows:
            red = Redactor()
            turns = [(sp, red.redact(t)) for sp, t in parse_conversation(conv)]
            conv_lang = detect_language(" ".join(t for sp, t in turns if sp == "customer")[:2000]).code
            target = lang or reply_language(conv_lang, "en")
            target = "ar" if target == "ary" else target
            ext = cp.summarize_conversation(conv, language=target, use_generator=False).summary
            gen = cp.generator()
            assert gen is not None, "the transformers generator could not be built"
            key = f"{name}:{cid}:{target}:{gen.model_id}"
            if key not in cache:
                text, model = summary_paragraph(turns, target, gen)
                cache[key] = {"key": key, "text": text, "model": model}
                with RAW.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(cache[key], ensure_ascii=False) + "\n")
            text = cache[key]["text"]
            base = summary_problems(text, turns, summary_language=target, detect=detect_language)
            grounding = summary_grounding(text, turns, target) if text else 0.0
            per["extractive"].append(rouge_l(ext, refs))
            model_score = rouge_l(text, refs)
            per["model"].append(model_score if not base else per["extractive"][-1])
            for t in thresholds:
                ok = not base and grounding >= t
                per[f"gate {t:g}"].append(model_score if ok else per["extractive"][-1])
                kept[f"gate {t:g}"].append(float(ok))
            texts.append(
                {"set": name, "id": cid, "language": target, "grounding": round(grounding, 3), "problems": base}
                | {
                    "model": text,
                    "extractive": ext,
                    "rouge model": round(model_score, 1),
                    "rouge extractive": round(per["extractive"][-1], 1),
                }
            )
        results[name] = {
            "n": len(rows),
            "rouge_l": {k: round(statistics.mean(v), 2) for k, v in per.items() if v},
            "kept": {k: round(statistics.mean(v), 3) for k, v in kept.items() if v},
        }
        print(f"\n{name} (n = {len(rows)})")
        print("| path | ROUGE-L | model kept |\n|---|---|---|")
        for k, v in results[name]["rouge_l"].items():
            print(f"| {k} | {v:.1f} | {results[name]['kept'].get(k, '')} |")
    print(f"saved {save('summary_gate', {'results': results, 'texts': texts})}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
