"""The embedded model, base vs tuned, in one run (issue 4): quality per language, hallucinations, speed.

Both variants are Gemma 3 270M on the transformers backend with the same settings; ``base`` has no adapter
(and gets the one-shot prompt it needs), ``tuned`` merges the LoRA adapter (``--adapter``, default the shipped
``models/adapters/copilot-lora``) and gets the zero-shot prompt it was tuned on. Sets:

- **held-back** tuning examples (ids ending in 0, never trained on): the prompt is rendered exactly as at run
  time and the raw generation is checked — accepted by the validator, language, citation, invented entities,
  the gold answer's numbers kept, "not in our help centre" on unanswerable ones (and never on answerable ones);
- **sample KB** messages (``benchmarks/data/replies_sample_kb.jsonl``) through the whole reply pipeline;
- **XQuAD** paragraphs 0-39 (tuning used 60-119), ar/en/es questions through the pipeline over an index of the
  paragraphs: answer contained, language kept;
- **DarijaBanking** questions in four languages (+ romanised Darija) against ``benchmarks/data/bank_faq_fr.csv``:
  right article cited, language kept, no-match honoured for out-of-domain questions;
- **TweetSumm** (held-out conversations 200+) and **DialogSum**: ROUGE-L (best over references) of the generated
  summary paragraph, and the share the summary validator accepted.

"Invented entities" counts generated texts (before any fallback) holding a number, URL or e-mail that is in neither
the source nor the message. Decode speed is tokens/s after the first token, as in ``benchmarks/replies.py``.

    python -m benchmarks.model                         # base and tuned, 10 per language and set
    python -m benchmarks.model --n 20 --card models/adapters/copilot-lora/README.md
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks._common import DATA, ROOT, decode_rates, mean, percentile, save, table
from benchmarks.replies import index, run_sample, run_xquad, score, summarise
from benchmarks.retrieval import BENCH_FAQ, LANGS, OOS, romanize
from benchmarks.summaries import TWEETSUMM_HELD_OUT, load
from copilot.config import Settings
from copilot.generators import GenerationParams, run_generation
from copilot.lang import detect_language
from copilot.reply import _content, build_prompt, reply_shots, says_not_in_kb, stop_strings, unsupported_facts, validate_generated
from copilot.service import Copilot
from copilot.templates import ACCEPTED
from copilot.textnorm import tokens
from copilot.tune import DATA as TUNING
from copilot.tune import held_back

SHIPPED = ROOT / "models" / "adapters" / "copilot-lora"


class _Tok:
    """Multilingual tokenizer for rouge-score (its default drops Arabic letters)."""

    def tokenize(self, text: str) -> list[str]:
        return tokens(text)


def rouge_l(pred: str, refs: Sequence[str]) -> float:
    from rouge_score import rouge_scorer

    sc = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_Tok())
    return max(sc.score(r, pred)["rougeL"].fmeasure for r in refs) * 100 if refs else 0.0


# ---------------------------------------------------------------------------------------------- held-back split
def held_back_rows() -> list[dict[str, Any]]:
    """The held-back reply examples of the tuning data (never trained on)."""
    rows = []
    for f in sorted((TUNING / "replies").glob("*.jsonl")):
        rows += [json.loads(x) for x in f.open(encoding="utf-8") if x.strip()]
    return [r for r in rows if held_back(r["id"])]


def _sources(row: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["title"], s["text"]) for s in row["sources"]]


def held_back_replies(cp: Copilot, n: int) -> dict[str, list[dict[str, Any]]]:
    gen = cp.generator()
    assert gen is not None
    shots = reply_shots(gen, cp.settings)
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in held_back_rows():
        if len(per[r["language"]]) >= n:
            continue
        rlang = r["reply_language"]
        src = _sources(r)
        prompt = build_prompt(rlang, src, r["message"], r.get("context", ""), shots)
        out = run_generation(gen, prompt, GenerationParams(max_new_tokens=cp.settings.max_new_tokens, stop=stop_strings(rlang)))
        allowed = [t for pair in src for t in pair] + [r["message"], r.get("context", "")]
        check = validate_generated(
            out.text,
            language=rlang,
            n_sources=1,
            allowed=allowed,
            detect=detect_language,
            min_grounding=cp.settings.min_grounding,
        )
        body = _content(check.text, rlang)
        refused = says_not_in_kb(out.text)
        gold_digits = re.findall(r"\d+", r["answer"])
        per[r["language"]].append(
            {
                "answerable": r["answerable"],
                "accepted": check.ok and r["answerable"],
                "language_ok": bool(body) and detect_language(body).code in ACCEPTED.get(rlang, {rlang}),
                "cites_1": check.cited == (1,) or (bool(check.cited) and set(check.cited) == {1}),
                "invented": bool(unsupported_facts(out.text, allowed)),
                "numbers_kept": all(d in re.findall(r"\d+", out.text) for d in gold_digits) if gold_digits else None,
                "rouge_l": rouge_l(body, [r["answer"]]),
                "refused": refused,
                "first_token_ms": out.first_token_ms,
                "generation_ms": out.generation_ms,
                "new_tokens": out.new_tokens,
            }
        )
    return per


def summarise_held(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    kept = [r["numbers_kept"] for r in ans if r["numbers_kept"] is not None]
    return {
        "n": len(rows),
        "accepted": sum(r["accepted"] for r in ans) / len(ans) if ans else float("nan"),
        "language_match": sum(r["language_ok"] for r in rows) / len(rows),
        "cites_source": sum(r["cites_1"] for r in ans) / len(ans) if ans else float("nan"),
        "invented_entities": sum(r["invented"] for r in rows) / len(rows),
        "numbers_kept": sum(kept) / len(kept) if kept else float("nan"),
        "rouge_l_vs_gold": mean([r["rouge_l"] for r in ans]),
        "unanswerable_refused": sum(r["refused"] for r in una) / len(una) if una else float("nan"),
        "answerable_refused": sum(r["refused"] for r in ans) / len(ans) if ans else float("nan"),
    }


# ---------------------------------------------------------------------------------------------- DarijaBanking
def darija_banking(cp: Copilot, n: int) -> dict[str, list[dict[str, Any]]]:
    rows = list(csv.DictReader((DATA / "darijabanking" / "darijabanking_train.csv").open(encoding="utf-8")))
    # every 7th parallel id: a spread of intents, the same questions in every language
    ids = sorted({r["parallel_id"] for r in rows}, key=lambda x: int(x) if x.isdigit() else x)[::7]
    keep = set(ids[:n])
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["parallel_id"] not in keep or not r["text"].strip():
            continue
        lang = LANGS[r["language"]]
        variants = [(lang, r["text"])] + ([("ary-Latn*", romanize(r["text"]))] if lang == "ary" else [])
        for name, text in variants:
            d = cp.draft_reply(text)
            gold = None if r["label"] in OOS else r["label"]
            s = score(d, gold_key=None, gold_ids={gold} if gold else set(), answer=None, message=text, key_of={})
            s["oos"] = gold is None
            s["raw_invented"] = bool(
                d.generated_reply and unsupported_facts(d.generated_reply, [c.text for c in d.citations] + [text])
            )
            per[name].append(s)
    return per


# ---------------------------------------------------------------------------------------------- summaries
def summaries(cp: Copilot, n: int) -> dict[str, dict[str, Any]]:
    out = {}
    for name, data in (("tweetsumm", load("tweetsumm", n, TWEETSUMM_HELD_OUT)), ("dialogsum", load("dialogsum", n))):
        finals, gens = [], []
        for _, conv, refs in data:
            s = cp.summarize_conversation(conv, language="en", use_generator=True)
            finals.append(rouge_l(s.summary, refs))
            if s.path == "generated":
                gens.append(rouge_l(s.summary, refs))
        out[name] = {
            "n": len(data),
            "generated_share": len(gens) / len(data) if data else float("nan"),
            "rouge_l_final": mean(finals),
            "rouge_l_generated_only": mean(gens),
        }
    return out


# ---------------------------------------------------------------------------------------------- run
def run_variant(
    name: str, settings: Settings, args: argparse.Namespace, work: Path, kb_index: Path, backend: str = "transformers"
) -> dict[str, Any]:
    res: dict[str, Any] = {}
    cp = Copilot(settings, index_dir=kb_index, generator=backend)
    key_of = {c.article_id: c.translation_key for c in cp.retriever().index.chunks if c.translation_key}
    cp.draft_reply("Bonjour, combien coûte la livraison ?")  # load and warm up
    res["model"] = cp.generator().model_id  # type: ignore[union-attr]
    print(f"[{name}] {res['model']}", flush=True)
    held = held_back_replies(cp, args.n)
    res["held_back"] = {k: summarise_held(v) for k, v in held.items()}
    res["held_back"]["all"] = summarise_held([r for v in held.values() for r in v])
    per = run_sample(cp, args.n, key_of)
    if (DATA / "xquad").exists():
        for lang, rows in run_xquad(settings, backend, args.n, work).items():
            per[f"xquad-{lang}"] = rows
    if (DATA / "darijabanking").exists():
        bank = Copilot(settings, index_dir=work / "bank-index", generator=backend)
        bank._generator = cp.generator()  # one loaded model for every set
        for lang, rows in darija_banking(bank, args.n).items():
            per[f"bank-{lang}"] = rows
    res["pipeline"] = {k: summarise(v) for k, v in per.items()}
    res["pipeline"]["all"] = summarise([r for v in per.values() for r in v])
    every = [r for v in per.values() for r in v]
    in_scope = [r for r in every if not r.get("oos")]
    res["pipeline_in_scope_generated"] = sum(r["path"] == "generated" for r in in_scope) / max(1, len(in_scope))
    raw = [r for v in held.values() for r in v]
    res["invented_entities_raw"] = sum(r["invented"] for r in raw) / max(1, len(raw))
    rates = decode_rates((r["new_tokens"], r["first_token_ms"], r["generation_ms"]) for r in raw)
    res["decode_tok_s"] = mean(rates)
    res["first_token_p50_ms"] = percentile([r["first_token_ms"] for r in every if r["new_tokens"]], 50)
    if args.summaries and (DATA / "tweetsumm").exists():
        sc = Copilot(settings.replace(summary_generator="default"), index_dir=kb_index, generator=backend)
        sc._generator = cp.generator()
        res["summaries"] = summaries(sc, args.summaries)
    return res


def speed(settings: Settings, adapter: str, n: int) -> dict[str, Any]:
    """Decode speed on the same held-back prompts: full vs trimmed output layer, with and without prompt lookup,
    base and tuned, and llama.cpp on the same (base) weights."""
    from copilot.generators import make_generator

    rows = [r for r in held_back_rows() if r["answerable"]][::5][:n]
    variants: dict[str, tuple[str, Settings]] = {}
    for model, a in (("base", "none"), ("tuned", adapter)):
        for vocab in ("full", "trimmed"):
            for lookup in (0, 6):
                name = f"{model} transformers int8, {vocab} vocabulary, lookup {'on' if lookup else 'off'}"
                variants[name] = ("transformers", settings.replace(adapter=a, generator_vocab=vocab, generator_lookup=lookup))
    variants["base llama.cpp Q4_K_M (same base weights)"] = ("llama.cpp", settings.replace(adapter="none"))
    variants["tuned llama.cpp (adapter merged into the GGUF, Q8_0)"] = ("llama.cpp", settings.replace(adapter=adapter))
    out: dict[str, Any] = {}
    texts: dict[str, list[str]] = {}
    for name, (backend, s) in variants.items():
        try:
            gen = make_generator(s, backend)
            assert gen is not None
            shots = reply_shots(gen, s)
            run_generation(gen, build_prompt("fr", [("t", "x")], "y", shots=shots), GenerationParams(max_new_tokens=2))
        except Exception as e:  # llama.cpp not installed
            out[name] = {"error": str(e)[:200]}
            continue
        outs = [
            run_generation(
                gen,
                build_prompt(r["reply_language"], _sources(r), r["message"], r.get("context", ""), shots),
                GenerationParams(max_new_tokens=80, stop=stop_strings(r["reply_language"])),
            )
            for r in rows
        ]
        texts[name] = [o.text for o in outs]
        out[name] = {
            "n": len(rows),
            "first_token_p50_ms": percentile([o.first_token_ms for o in outs], 50),
            "decode_tok_s": mean(decode_rates((o.new_tokens, o.first_token_ms, o.generation_ms) for o in outs)),
        }
        full = name.replace("trimmed", "full")
        if "trimmed" in name and full in texts:
            out[name]["same_text_as_full"] = sum(a == b for a, b in zip(texts[name], texts[full])) / len(rows)
    return out


def _per_set_table(results: dict[str, Any], names: list[str], part: str, first: str, cols: list[str]) -> str:
    """One row per (set or language, model variant) of ``results[variant][part]``."""
    rows = []
    for key in results[names[0]][part]:
        for v in names:
            m = results[v][part].get(key)
            if m:
                rows.append([key, v, m["n"], *[m[c] for c in cols]])
    return table([first, "model", "n", *cols], rows)


def report(results: dict[str, Any]) -> str:
    lines = []
    names = [k for k in results if not k.startswith("_")]
    held_cols = [
        "accepted",
        "language_match",
        "cites_source",
        "invented_entities",
        "numbers_kept",
        "rouge_l_vs_gold",
        "unanswerable_refused",
        "answerable_refused",
    ]
    lines.append("### Held-back tuning examples (raw generation, before any fallback)\n")
    lines.append(_per_set_table(results, names, "held_back", "language", held_cols))
    cols = [
        "language_match",
        "citations_valid",
        "right_article",
        "answer_in_reply",
        "oos_flagged",
        "answerable_flagged",
        "invented_numbers",
        "generated_share",
    ]
    lines.append("\n### Through the reply pipeline (final drafts; generated_share = validator accepted the model's text)\n")
    lines.append(_per_set_table(results, names, "pipeline", "set", cols))
    for v in names:
        a = results[v]["pipeline"]["all"]
        if a.get("kept_with_gold"):
            lines.append(
                f"\n{v}: of {a['kept_with_gold']} drafts where the model's text was kept, the answer is in "
                f"{a['kept_model_answer']}; the extractive draft of the same messages has it in {a['kept_extractive_answer']}. "
                f'The model said "not in our help centre" on {a["refused"]} answerable messages; the draft had the '
                f"answer in {a['refused_but_answered']} of them."
            )
    lines.append("\n### Summaries (English reference summaries; ROUGE-L best over references)\n")
    rows = []
    for v in names:
        for s, m in results[v].get("summaries", {}).items():
            rows.append([s, v, m["n"], m["generated_share"], m["rouge_l_final"], m["rouge_l_generated_only"]])
    lines.append(table(["set", "model", "n", "generated share", "ROUGE-L final", "ROUGE-L generated only"], rows))
    lines.append("\n### Speed and totals\n")
    lines.append(
        table(
            ["model", "first token p50 ms", "decode tokens/s", "in-scope generated share", "invented entities (raw)"],
            [
                [
                    v,
                    results[v]["first_token_p50_ms"],
                    results[v]["decode_tok_s"],
                    results[v]["pipeline_in_scope_generated"],
                    results[v]["invented_entities_raw"],
                ]
                for v in names
            ],
        )
    )
    sp = results.get("_speed")
    if sp:
        lines.append("\n### Decode speed on the same prompts (2 threads)\n")
        lines.append(
            table(
                ["variant", "n", "first token p50 ms", "decode tokens/s", "same text as full vocabulary"],
                [
                    [
                        k,
                        v.get("n", 0),
                        v.get("first_token_p50_ms", float("nan")),
                        v.get("decode_tok_s", float("nan")),
                        v.get("same_text_as_full", ""),
                    ]
                    for k, v in sp.items()
                ],
            )
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--variants", default="base,tuned", help="comma-separated: base, tuned, tuned-trimmed, tuned-llama.cpp (merged GGUF)"
    )
    ap.add_argument("--adapter", default=str(SHIPPED), help="adapter folder for the tuned variant")
    ap.add_argument("--n", type=int, default=10, help="examples per language and set")
    ap.add_argument("--summaries", type=int, default=30, help="conversations per summary set (0 = skip)")
    ap.add_argument("--speed", type=int, default=12, help="prompts in the speed comparison (0 = skip)")
    ap.add_argument("--card", default="", help="write the tables into this model card (replaces its Metrics section)")
    args = ap.parse_args(argv)
    settings = Settings.from_env(progress=False)
    work = Path(tempfile.mkdtemp(prefix="bench-model-"))
    kb_index = work / "kb-index"
    index([str(ROOT / "knowledge_base")], kb_index)
    index([str(BENCH_FAQ)], work / "bank-index")
    variants = {
        "base": settings.replace(adapter="none"),
        "tuned": settings.replace(adapter=args.adapter),
        "tuned-trimmed": settings.replace(adapter=args.adapter, generator_vocab="trimmed"),
        "tuned-llama.cpp": settings.replace(adapter=args.adapter),
    }
    results: dict[str, Any] = {}
    for name in [v.strip() for v in args.variants.split(",") if v.strip()]:
        backend = "llama.cpp" if name.endswith("llama.cpp") else "transformers"
        results[name] = run_variant(name, variants[name], args, work, kb_index, backend)
    if args.speed:
        results["_speed"] = speed(settings, args.adapter, args.speed)
    text = report(results)
    print(text)
    print(f"\nsaved {save('model', results)}")
    if args.card:
        card = Path(args.card)
        head, _, rest = card.read_text(encoding="utf-8").partition("## Metrics")
        after = rest.find("\n## ")  # the sections after Metrics (targets, hand-written notes) stay
        tail = rest[after:] if after >= 0 else ""
        card.write_text(
            f"{head}## Metrics\n\n`python -m benchmarks.model --n {args.n} --summaries {args.summaries}` (2-core CPU)\n\n"
            f"{text}\n{tail}",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
