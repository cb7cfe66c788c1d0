"""Reply drafting benchmark: language match, citations, right article, no-match, invented numbers, speed.

Sets:
- ``benchmarks/data/replies_sample_kb.jsonl`` (written for this project): customer messages in fr, ar,
  ary (Darija, Arabic script), ary-Latn (Arabizi), es, en over the bundled KB, with the article that
  answers each one (or none) and a fact the reply should contain.
- XQuAD (``../shared/data/xquad``): questions in ar/en/es over their paragraphs (grounded answers).
- CLINC150 out-of-scope questions against the bundled KB (should get the holding reply).

Every backend named with ``--backends`` runs on the same messages in the same process; ``none`` is
the extractive path alone. Figures go to stdout (Markdown) and ``benchmarks/out/replies.json``.

    python -m benchmarks.replies                               # transformers, llama.cpp, none; 8 per language
    python -m benchmarks.replies --limit 0 --xquad 40          # everything
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks._common import DATA, ROOT, decode_rates, mean, percentile, save, table
from copilot import cli
from copilot.config import Settings
from copilot.lang import detect_language
from copilot.reply import _CITE, MODEL_FOUND_NO_ANSWER, Draft, unsupported_facts
from copilot.service import Copilot
from copilot.templates import ACCEPTED, wording

SAMPLE = ROOT / "benchmarks" / "data" / "replies_sample_kb.jsonl"


def index(sources: list[str], index_dir: Path) -> None:
    if cli.main(["index", *sources, "--index", str(index_dir), "--no-progress"]) != 0:
        sys.exit("indexing failed")


def body_of(d: Draft) -> str:
    """The reply without its fixed greeting and closing (what the language check looks at)."""
    w = wording(d.reply_language)
    text = d.reply.replace(w.greeting, " ").replace(w.closing, " ").replace(w.lead, " ")
    return _CITE.sub(" ", text).strip()


def score(
    d: Draft, *, gold_key: str | None, gold_ids: set[str], answer: str | None, message: str, key_of: dict[str, str]
) -> dict[str, Any]:
    body = body_of(d)
    detected = detect_language(body).code if body else "und"
    cited_n = [int(x) for m in _CITE.finditer(d.reply) for x in re.findall(r"\d+", m.group(0))]
    valid = bool(d.citations) == (not d.no_match) and all(1 <= n <= len(d.citations) for n in cited_n)
    sources = [c.text for c in d.citations] + [c.title for c in d.citations] + [message]
    cited_ids = {c.article_id for c in d.citations}
    right = None
    if gold_key is not None or gold_ids:
        right = bool(cited_ids & gold_ids) or any(key_of.get(a) == gold_key for a in cited_ids if gold_key)
    ans = ans_extractive = None
    if answer:
        ans = _contains_answer(d.reply, answer)
        ans_extractive = _contains_answer(d.extractive_reply or d.reply, answer)
    return {
        "language_ok": detected in ACCEPTED.get(d.reply_language, {d.reply_language}),
        "detected": detected,
        "citations_valid": valid,
        "right_article": right,
        "answer_in_reply": ans,
        "answer_in_extractive": ans_extractive,
        "model_refused": MODEL_FOUND_NO_ANSWER in d.rejected or any("the model found no answer" in w for w in d.warnings),
        "no_match": d.no_match,
        "invented": bool(unsupported_facts(d.reply, sources)) if not d.no_match else False,
        "path": d.path,
        "first_token_ms": d.timings.get("first_token_ms", 0.0),
        "total_ms": d.timings.get("retrieval_ms", 0.0) + d.timings.get("selection_ms", 0.0) + d.timings.get("generation_ms", 0.0),
        "new_tokens": d.timings.get("new_tokens", 0),
        "generation_ms": d.timings.get("generation_ms", 0.0),
        "rejected": d.rejected,
    }


def _contains_answer(text: str, answer: str) -> bool:
    """The gold answer is in the text: its digits in order when it has any, else its letters without spaces."""
    digits = re.sub(r"\D", "", answer)
    if digits:
        return digits in re.sub(r"\D", "", text)
    return re.sub(r"\s", "", answer.lower()) in re.sub(r"\s", "", text.lower())


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def rate(key: str) -> float:
        vals = [r[key] for r in rows if r[key] is not None]
        return sum(1 for v in vals if v) / len(vals) if vals else float("nan")

    answerable = [r for r in rows if r["right_article"] is not None]
    oos = [r for r in rows if r["right_article"] is None and r["answer_in_reply"] is None and r.get("oos")]
    gen = [r for r in rows if r["new_tokens"]]
    decode = decode_rates((r["new_tokens"], r["first_token_ms"], r["generation_ms"]) for r in gen)
    kept = [r for r in rows if r["path"] == "generated" and not r["no_match"] and r.get("answer_in_extractive") is not None]
    refused = [r for r in rows if r.get("model_refused") and r["answer_in_reply"] is not None]
    reasons: dict[str, int] = defaultdict(int)
    for r in rows:
        for x in r["rejected"]:
            reasons[re.sub(r":.*", "", x)] += 1
    return {
        "n": len(rows),
        "language_match": rate("language_ok"),
        "citations_valid": rate("citations_valid"),
        "right_article": sum(1 for r in answerable if r["right_article"]) / len(answerable) if answerable else float("nan"),
        "answer_in_reply": rate("answer_in_reply"),
        "answerable_flagged": sum(1 for r in answerable if r["no_match"]) / len(answerable) if answerable else float("nan"),
        "oos_flagged": sum(1 for r in oos if r["no_match"]) / len(oos) if oos else float("nan"),
        "invented_numbers": rate("invented"),
        "generated_share": sum(1 for r in rows if r["path"] == "generated") / len(rows) if rows else float("nan"),
        "first_token_p50_ms": percentile([r["first_token_ms"] for r in gen], 50),
        "total_p50_ms": percentile([r["total_ms"] for r in rows if not r["no_match"]], 50),
        "decode_tok_s": mean(decode),
        "rejections": dict(reasons),
        # paired: drafts whose model text was kept, answer in it vs in the extractive draft of the same message
        "kept_model_answer": sum(1 for r in kept if r["answer_in_reply"]),
        "kept_extractive_answer": sum(1 for r in kept if r["answer_in_extractive"]),
        "kept_with_gold": len(kept),
        # the model's "not in our help centre" on answerable messages, and how often the draft had the answer anyway
        "refused": len(refused),
        "refused_but_answered": sum(1 for r in refused if r["answer_in_reply"]),
    }


def run_sample(cp: Copilot, limit: int, key_of: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    rows = [json.loads(x) for x in SAMPLE.open(encoding="utf-8")]
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    seen: dict[str, int] = defaultdict(int)
    for r in rows:
        lang = r["language"]
        if limit and seen[lang] >= limit:
            continue
        seen[lang] += 1
        d = cp.draft_reply(r["text"])
        s = score(d, gold_key=r["key"], gold_ids=set(), answer=r["answer"], message=r["text"], key_of=key_of)
        s["oos"] = r["key"] is None
        per[lang].append(s)
    return per


def run_xquad(settings: Settings, backend: str, n: int, work: Path) -> dict[str, list[dict[str, Any]]]:
    paras = [json.loads(x) for x in (DATA / "xquad" / "paragraphs.jsonl").open(encoding="utf-8")]
    qs = [json.loads(x) for x in (DATA / "xquad" / "questions.jsonl").open(encoding="utf-8")]
    pids = sorted({p["pid"] for p in paras})[:40]
    idx = work / "xquad-index"
    if not idx.exists():
        kb = work / "xquad.jsonl"
        with kb.open("w", encoding="utf-8") as f:
            for p in paras:
                if p["pid"] in pids:
                    row = {"id": f"p{p['pid']}-{p['lang']}", "title": p["title"].replace("_", " "), "answer": p["context"]}
                    f.write(
                        json.dumps({**row, "language": p["lang"], "translation_key": f"p{p['pid']}"}, ensure_ascii=False) + "\n"
                    )
        index([str(kb)], idx)
    cp = Copilot(settings.replace(min_confidence=0.0), index_dir=idx, generator=backend)
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for lang in ("ar", "en", "es"):
        sel = [q for q in qs if q["lang"] == lang and q["pid"] in pids][:n]
        for q in sel:
            d = cp.draft_reply(q["question"])
            gold = {f"p{q['pid']}-{x}" for x in ("ar", "en", "es")}
            ans = q["answers"][0] if q["answers"] else None
            s = score(d, gold_key=None, gold_ids=gold, answer=None, message=q["question"], key_of={})
            text = d.reply.lower()
            s["answer_in_reply"] = any(str(a).lower() in text for a in q["answers"]) if ans else None
            per[lang].append(s)
    return per


def run_clinc(cp: Copilot, n: int) -> dict[str, Any]:
    data = json.loads((DATA / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    oos = [t for t, _ in data["oos_val"]][:n]
    res = cp.search_many(oos)
    return {"n": len(oos), "flagged": sum(1 for r in res if r.no_match) / len(oos)}


def speed_variants(settings: Settings, kb_index: Path, n: int) -> dict[str, Any]:
    """Decode speed and first-token latency of the transformers backend's options, and llama.cpp, on the same drafts."""
    rows = [json.loads(x) for x in SAMPLE.open(encoding="utf-8")]
    msgs = [r["text"] for r in rows if r["key"]][::7][:n]
    variants = {
        "transformers fp32": settings.replace(generator_quantize="none", generator_lookup=0),
        "transformers fp32 + lookup": settings.replace(generator_quantize="none", generator_lookup=6),
        "transformers int8": settings.replace(generator_quantize="int8", generator_lookup=0),
        "transformers int8 + lookup (default)": settings.replace(generator_quantize="int8", generator_lookup=6),
        "llama.cpp Q4_K_M": settings,
    }
    out: dict[str, Any] = {}
    for name, s in variants.items():
        backend = "llama.cpp" if name.startswith("llama") else "transformers"
        try:
            cp = Copilot(s, index_dir=kb_index, generator=backend)
            cp.draft_reply(msgs[0])
        except Exception as e:  # llama.cpp not installed
            out[name] = {"error": str(e)[:200]}
            continue
        timings = [cp.draft_reply(m).timings for m in msgs]
        rates = decode_rates((t["new_tokens"], t["first_token_ms"], t["generation_ms"]) for t in timings)
        out[name] = {
            "n": len(msgs),
            "first_token_p50_ms": percentile([t["first_token_ms"] for t in timings], 50),
            "decode_tok_s": mean(rates),
            "tokens": sum(int(t["new_tokens"]) for t in timings),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", default="transformers,llama.cpp,none")
    ap.add_argument("--limit", type=int, default=8, help="messages per language from the sample set (0 = all)")
    ap.add_argument("--xquad", type=int, default=10, help="XQuAD questions per language (0 = skip)")
    ap.add_argument("--clinc", type=int, default=100, help="CLINC out-of-scope questions (0 = skip)")
    ap.add_argument("--speed", type=int, default=12, help="drafts per variant in the speed comparison (0 = skip)")
    args = ap.parse_args(argv)
    settings = Settings.from_env(progress=False)
    work = Path(tempfile.mkdtemp(prefix="bench-replies-"))
    kb_index = work / "kb-index"
    index([str(ROOT / "knowledge_base")], kb_index)
    report: dict[str, Any] = {"backends": {}}
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        cp = Copilot(settings, index_dir=kb_index, generator=backend)
        key_of = {c.article_id: c.translation_key for c in cp.retriever().index.chunks if c.translation_key}
        t0 = time.perf_counter()
        cp.draft_reply("Bonjour, combien coûte la livraison ?")  # load and warm up
        warm_s = time.perf_counter() - t0
        per = run_sample(cp, args.limit, key_of)
        if args.xquad and (DATA / "xquad").exists():
            for lang, rows in run_xquad(settings, backend, args.xquad, work).items():
                per[f"xquad-{lang}"] = rows
        summary = {lang: summarise(rows) for lang, rows in per.items()}
        summary["all"] = summarise([r for rows in per.values() for r in rows])
        model = cp.generator().model_id if cp.generator() is not None else "extractive"
        report["backends"][backend] = {"model": model, "load_s": warm_s, "per_language": summary}
        print(f"\n## {backend} ({model}; load + first draft {warm_s:.1f} s)\n")
        cols = [
            "language_match",
            "citations_valid",
            "right_article",
            "answer_in_reply",
            "oos_flagged",
            "invented_numbers",
            "generated_share",
        ]
        print(table(["set", "n", *cols], [[k, v["n"], *[v[c] for c in cols]] for k, v in summary.items()]))
        if model != "extractive":
            a = summary["all"]
            print(
                f"\nfirst token p50 {a['first_token_p50_ms']:.0f} ms; draft total p50 {a['total_p50_ms']:.0f} ms; "
                f"decode {a['decode_tok_s']:.1f} tokens/s; rejections of generated text: {a['rejections']}"
            )
    if args.clinc and (DATA / "clinc150").exists():
        cp = Copilot(settings, index_dir=kb_index, generator="none")
        report["clinc_oos"] = run_clinc(cp, args.clinc)
        print(
            f"\nCLINC150 out-of-scope questions given the holding reply (no match) on the sample KB: "
            f"{report['clinc_oos']['flagged']:.3f} of {report['clinc_oos']['n']}"
        )
    if args.speed:
        report["speed"] = sp = speed_variants(settings, kb_index, args.speed)
        print("\n## Generator speed on the same drafts (2 threads)\n")
        print(
            table(
                ["variant", "n", "first token p50 ms", "decode tokens/s"],
                [
                    [k, v.get("n", 0), v.get("first_token_p50_ms", float("nan")), v.get("decode_tok_s", float("nan"))]
                    for k, v in sp.items()
                ],
            )
        )
    b = report["backends"]
    if "transformers" in b and "llama.cpp" in b:
        t = b["transformers"]["per_language"]["all"]["decode_tok_s"]
        ll = b["llama.cpp"]["per_language"]["all"]["decode_tok_s"]
        report["transformers_vs_llamacpp_decode"] = t / ll if ll else float("nan")
        print(f"\ntransformers / llama.cpp decode speed: {t:.1f} / {ll:.1f} tokens/s = {t / ll:.2f}")
    print(f"\nsaved {save('replies', report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
