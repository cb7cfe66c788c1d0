"""Summary benchmark: ROUGE against human references, entity faithfulness, throughput per path and backend.

Sets (read from ../shared/data at run time): TweetSumm (customer care, 2-5 references each, best-of),
DialogSum (dev), TODSum (booking dialogues), MArSum (Darija article -> headline, the Darija path).
Paths: ``extractive`` (``--generator none``), ``auto`` (``--generator auto``: the model writes the paragraph only when the
summary is in another language than the conversation's or the conversation is Darija, so MArSum's Darija articles
get it and the English sets stay extractive; ``translate`` likewise, translating the extractive summary's quotes) and
each backend named in ``--backends`` (the model's own paragraph, kept only when it validates). Baselines: the lead baseline (first customer turn + last agent turn) and a
naive one-at-a-time transformers loop (fp32, ``model.generate`` per conversation) for throughput.

    python -m benchmarks.summaries                       # 400 TweetSumm, 100 of the others, extractive, auto, transformers
    python -m benchmarks.summaries --n 600 --backends none
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from benchmarks._common import DATA, mean, need_data, save, table
from copilot.config import Settings
from copilot.service import Copilot
from copilot.summarize import clean_turn, entities, parse_conversation, unfaithful


def rouge(preds: list[str], refs: list[list[str]]) -> dict[str, float]:
    from rouge_score import rouge_scorer

    sc = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    out: dict[str, list[float]] = {"rouge1": [], "rouge2": [], "rougeL": []}
    for p, rs in zip(preds, refs):
        scores = [sc.score(r, p) for r in rs]
        for k in out:
            out[k].append(max(s[k].fmeasure for s in scores) * 100)
    return {k: mean(v) for k, v in out.items()}


#: TweetSumm conversations 0-199 were used to design the summary templates; figures are reported from 200 on.
TWEETSUMM_HELD_OUT = 200


def load(name: str, n: int, offset: int = 0) -> list[tuple[str, Any, list[str]]]:
    """(id, conversation, references)."""
    if name == "tweetsumm":
        rows = [json.loads(x) for x in (DATA / "tweetsumm" / "tweetsumm_train_with_text.jsonl").open(encoding="utf-8")]
        rows = rows[offset : offset + n]
        return [(r["conversation_id"], r["turns"], list(r["abstractive_summaries"])) for r in rows]
    if name == "dialogsum":
        rows = [json.loads(x) for x in (DATA / "dialogsum" / "dialogsum.dev.jsonl").open(encoding="utf-8")]
        return [(r["fname"], r["dialogue"], [r["summary"]]) for r in rows[:n]]
    if name == "todsum":
        rows = [json.loads(x) for x in (DATA / "todsum" / "todsum_test.jsonl").open(encoding="utf-8")]
        return [(str(r["idx"]), r["dialogue"], [r["summary"]]) for r in rows[:n]]
    if name == "marsum":
        rows = [json.loads(x) for x in (DATA / "marsum" / "marsum_test.jsonl").open(encoding="utf-8")]
        return [(str(r["idx"]), [{"speaker": "customer", "text": r["article"]}], [r["title"]]) for r in rows[:n]]
    raise ValueError(name)


def lead(conv: Any) -> str:
    turns = parse_conversation(conv)
    first = next((t for s, t in turns if s == "customer"), turns[0][1])
    last = next((t for s, t in reversed(turns) if s == "agent"), "")
    return clean_turn(f"{first} {last}")


def faithfulness(preds: list[str], convs: list[Any]) -> float:
    """Share of the summaries' entities (numbers, dates, ids, e-mails, phones) found in the conversation."""
    total = bad = 0
    for p, c in zip(preds, convs):
        src = " ".join(t for _, t in parse_conversation(c))
        total += len(entities(p))
        bad += len(unfaithful(p, src))
    return 1.0 - bad / total if total else 1.0


def run_path(
    cp: Copilot, data: list[tuple[str, Any, list[str]]], language: str | None
) -> tuple[list[str], float, dict[str, int]]:
    preds: list[str] = []
    paths: dict[str, int] = {}
    t0 = time.perf_counter()
    for _, conv, _ in data:
        s = cp.summarize_conversation(conv, language=language)
        preds.append(s.summary)
        paths[s.path] = paths.get(s.path, 0) + 1
    per_min = len(data) / ((time.perf_counter() - t0) / 60)
    return preds, per_min, paths


def naive_loop(data: list[tuple[str, Any, list[str]]], settings: Settings) -> float:
    """Conversations per minute of the obvious approach: fp32 model.generate, one conversation at a time."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from copilot.models import resolve_model

    ref = resolve_model(settings, "hf")
    torch.set_num_threads(settings.threads)
    tok = AutoTokenizer.from_pretrained(str(ref.path))
    model = AutoModelForCausalLM.from_pretrained(str(ref.path), dtype=torch.float32).eval()
    t0 = time.perf_counter()
    for _, conv, _ in data:
        text = "\n".join(f"{s}: {clean_turn(t)}" for s, t in parse_conversation(conv))[:3000]
        ids = tok(f"Conversation:\n{text}\n\nSummary:", return_tensors="pt")
        with torch.inference_mode():
            model.generate(**ids, max_new_tokens=60, do_sample=False)
    return len(data) / ((time.perf_counter() - t0) / 60)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=400, help="TweetSumm conversations (from the held-out slice 200-599)")
    ap.add_argument("--n-other", type=int, default=100, help="conversations from DialogSum, TODSum, MArSum")
    ap.add_argument(
        "--backends",
        default="none,auto,transformers",
        help="none (extractive), auto (the model only across languages or for Darija), translate, transformers, "
        "llama.cpp, openai",
    )
    ap.add_argument("--gen-n", type=int, default=40, help="conversations per set for generator backends (slower)")
    ap.add_argument("--naive", type=int, default=20, help="conversations for the naive transformers loop (0 = skip)")
    args = ap.parse_args(argv)
    need_data("tweetsumm", "dialogsum", "todsum", "marsum")
    settings = Settings.from_env(progress=False)
    sets = {"tweetsumm": args.n, "dialogsum": args.n_other, "todsum": args.n_other, "marsum": args.n_other}
    report: dict[str, Any] = {"sets": {}}
    rows = []
    for name, n in sets.items():
        data = load(name, n, TWEETSUMM_HELD_OUT if name == "tweetsumm" else 0)
        lang = None
        refs = [r for _, _, r in data]
        base = [lead(c) for _, c, _ in data]
        rl = rouge(base, refs)
        report["sets"].setdefault(name, {})["lead"] = rl
        rows.append(
            [
                name,
                "lead baseline",
                len(data),
                rl["rouge1"],
                rl["rouge2"],
                rl["rougeL"],
                faithfulness(base, [c for _, c, _ in data]),
                "",
                "",
            ]
        )
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            sub = data if backend == "none" else data[: args.gen_n]
            cp = Copilot(
                settings.replace(summary_generator=backend),
                generator=settings.generator if backend in ("auto", "translate") else backend,
            )
            cp.summarize_conversation(sub[0][1])  # load and warm up
            preds, per_min, paths = run_path(cp, sub, lang)
            r = rouge(preds, [x for _, _, x in sub])
            f = faithfulness(preds, [c for _, c, _ in sub])
            report["sets"][name][backend] = {**r, "faithfulness": f, "per_minute": per_min, "paths": paths, "n": len(sub)}
            label = "extractive" if backend == "none" else backend
            rows.append([name, label, len(sub), r["rouge1"], r["rouge2"], r["rougeL"], f, per_min, json.dumps(paths)])
    print(table(["set", "path", "n", "ROUGE-1", "ROUGE-2", "ROUGE-L", "entity faithfulness", "conv/min", "paths"], rows))
    if args.naive:
        data = load("tweetsumm", args.naive, TWEETSUMM_HELD_OUT)
        report["naive_transformers_per_minute"] = nv = naive_loop(data, settings)
        ours = report["sets"]["tweetsumm"]
        print(f"\nnaive one-at-a-time transformers loop: {nv:.1f} conversations/minute")
        for k in ("none", "transformers"):
            if k in ours:
                print(f"  {k}: {ours[k]['per_minute']:.1f}/min = {ours[k]['per_minute'] / nv:.1f}x")
    print(f"\nsaved {save('summaries', report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
