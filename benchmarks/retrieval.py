"""Retrieval benchmark: per-language top-1/recall/MRR, no-match, Darija/Arabizi, speed vs LangChain FAISS.

Usage:
    python benchmarks/retrieval.py                      # everything (~10 min on 2 cores)
    python benchmarks/retrieval.py --only darija,xquad  # some sections
    python benchmarks/retrieval.py --ablation           # also dense-only / no-variants rows

Reads evaluation data from ../shared/data (or $COPILOT_EVAL_DATA) at run time; writes JSON to
benchmarks/out/retrieval.json and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import DATA, need_data, percentile, save, table
from copilot import cli
from copilot.config import Settings
from copilot.service import Copilot

BENCH_FAQ = Path(__file__).resolve().parent / "data" / "bank_faq_fr.csv"
LANGS = {"english": "en", "french": "fr", "arabic": "ar", "darija": "ary"}
OOS = {"oodoos", "idoos"}

# Rule-based Arabic-script -> Latin romanisation the way Moroccans type Arabizi, used only to derive
# Latin-script versions of the Arabic-script Darija questions (the data set has no Arabizi).
_ROMAN = {
    "ا": "a",
    "أ": "a",
    "إ": "i",
    "آ": "a",
    "ب": "b",
    "ت": "t",
    "ث": "t",
    "ج": "j",
    "ح": "7",
    "خ": "kh",
    "د": "d",
    "ذ": "d",
    "ر": "r",
    "ز": "z",
    "س": "s",
    "ش": "ch",
    "ص": "s",
    "ض": "d",
    "ط": "t",
    "ظ": "d",
    "ع": "3",
    "غ": "gh",
    "ف": "f",
    "ق": "9",
    "ك": "k",
    "ڭ": "g",
    "گ": "g",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ه": "h",
    "ة": "a",
    "و": "o",
    "ي": "i",
    "ى": "a",
    "ئ": "i",
    "ؤ": "o",
    "ء": "2",
    "پ": "p",
    "ڤ": "v",
    "؟": "?",
    "،": ",",
}


def romanize(text: str) -> str:
    return "".join(_ROMAN.get(c, "" if "\u064b" <= c <= "\u0652" else c) for c in text)


def index_via_cli(sources: list[str], index_dir: str, embedder: str = "use") -> None:
    code = cli.main(["index", *sources, "--index", index_dir, "--embedder", embedder, "--no-progress"])
    if code != 0:
        sys.exit(f"indexing failed ({code})")


def _rank_of(hits: list[Any], gold: str) -> int | None:
    for r, h in enumerate(hits, 1):
        if h.article_id == gold or gold in h.translations:
            return r
    return None


def darija_banking(settings: Settings, limit: int | None, ablation: bool) -> dict[str, Any]:
    need_data("darijabanking")
    rows = list(csv.DictReader((DATA / "darijabanking" / "darijabanking_train.csv").open(encoding="utf-8")))
    if limit:
        keep = {r["parallel_id"] for r in rows[: limit * 4]}
        rows = [r for r in rows if r["parallel_id"] in keep]
    queries: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in rows:
        if r["text"].strip():
            queries[LANGS[r["language"]]].append((r["text"], r["label"]))
    queries["ary-Latn*"] = [(romanize(t), lab) for t, lab in queries["ary"]]
    tmp = tempfile.mkdtemp(prefix="bench-db-")
    index_via_cli([str(BENCH_FAQ)], tmp)
    configs = {"hybrid+variants": settings}
    if ablation:
        configs["dense only"] = settings.replace(use_bm25=False, use_variants=False)
        configs["dense+variants"] = settings.replace(use_bm25=False)
        configs["hybrid, no variants"] = settings.replace(use_variants=False)
    out: dict[str, Any] = {}
    for name, s in configs.items():
        cp = Copilot(s, index_dir=tmp)
        per: dict[str, Any] = {}
        for lang, qs in queries.items():
            t0 = time.perf_counter()
            res = cp.search_many([q for q, _ in qs], k=5)
            secs = time.perf_counter() - t0
            ins = [(r, lab) for r, (_, lab) in zip(res, qs) if lab not in OOS]
            oos = [r for r, (_, lab) in zip(res, qs) if lab in OOS]
            ranks = [_rank_of(r.hits, lab) for r, lab in ins]
            expected_lang = {"ary-Latn*": "ary-Latn"}.get(lang, lang)
            per[lang] = {
                "n_in_scope": len(ins),
                "n_oos": len(oos),
                "top1": sum(1 for x in ranks if x == 1) / max(1, len(ins)),
                "recall@3": sum(1 for x in ranks if x and x <= 3) / max(1, len(ins)),
                "mrr": sum(1 / x for x in ranks if x) / max(1, len(ins)),
                "oos_flagged": sum(1 for r in oos if r.no_match) / max(1, len(oos)),
                "in_scope_kept": sum(1 for r, _ in ins if not r.no_match) / max(1, len(ins)),
                "language_detected": sum(1 for r in res if r.language.code == expected_lang) / max(1, len(res)),
                "queries_per_s": len(qs) / secs,
                "_conf_in": [r.confidence for r, _ in ins],
                "_conf_oos": [r.confidence for r in oos],
                "_dense_in": [r.hits[0].dense_score if r.hits else 0 for r, _ in ins],
                "_dense_oos": [r.hits[0].dense_score if r.hits else 0 for r in oos],
                "_lex_in": [r.hits[0].lexical_score if r.hits else 0 for r, _ in ins],
            }
        out[name] = per
    return out


def xquad(settings: Settings, limit: int | None) -> dict[str, Any]:
    need_data("xquad")
    paras = [json.loads(x) for x in (DATA / "xquad" / "paragraphs.jsonl").open(encoding="utf-8")]
    qs = [json.loads(x) for x in (DATA / "xquad" / "questions.jsonl").open(encoding="utf-8")]
    en = [p for p in paras if p["lang"] == "en"]
    tmp = Path(tempfile.mkdtemp(prefix="bench-xq-"))
    kb = tmp / "xquad_en.jsonl"
    with kb.open("w", encoding="utf-8") as f:
        for p in en:
            f.write(
                json.dumps(
                    {"id": f"p{p['pid']}", "title": p["title"].replace("_", " "), "answer": p["context"], "language": "en"},
                    ensure_ascii=False,
                )
                + "\n"
            )
    index_via_cli([str(kb)], str(tmp / "index"))
    cp = Copilot(settings, index_dir=tmp / "index")
    out: dict[str, Any] = {}
    for lang in ("en", "es", "ar"):
        sel = [q for q in qs if q["lang"] == lang][: limit or None]
        res = cp.search_many([q["question"] for q in sel], k=5)
        ranks = [_rank_of(r.hits, f"p{q['pid']}") for r, q in zip(res, sel)]
        out[lang] = {
            "n": len(sel),
            "recall@1": sum(1 for x in ranks if x == 1) / max(1, len(sel)),
            "recall@5": sum(1 for x in ranks if x) / max(1, len(sel)),
            "mrr": sum(1 / x for x in ranks if x) / max(1, len(sel)),
        }
    return out


def clinc_index(first: dict[str, str]) -> Path:
    """Index a KB of one FAQ entry per CLINC intent (title = intent name, question = one example)."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-clinc-"))
    kb = tmp / "clinc_kb.jsonl"
    with kb.open("w", encoding="utf-8") as f:
        for label, text in sorted(first.items()):
            f.write(json.dumps({"id": label, "title": label.replace("_", " "), "question": text, "language": "en"}) + "\n")
    index_via_cli([str(kb)], str(tmp / "index"))
    return tmp / "index"


def clinc(settings: Settings, limit: int | None) -> dict[str, Any]:
    """CLINC150: a KB of one FAQ entry per intent (its first training question); val in-scope vs out-of-scope."""
    need_data("clinc150")
    data = json.loads((DATA / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    first: dict[str, str] = {}
    for text, label in data["train"]:
        first.setdefault(label, text)
    cp = Copilot(settings, index_dir=clinc_index(first))
    val = data["val"][: limit or None]
    oos = data["oos_val"] + data["oos_train"]
    r_in = cp.search_many([t for t, _ in val], k=5)
    r_oos = cp.search_many([t for t, _ in oos], k=5)
    return {
        "n_in_scope": len(val),
        "n_oos": len(oos),
        "top1": sum(1 for r, (_, lab) in zip(r_in, val) if r.hits and r.hits[0].article_id == lab) / len(val),
        "in_scope_kept": sum(1 for r in r_in if not r.no_match) / len(val),
        "oos_flagged": sum(1 for r in r_oos if r.no_match) / len(oos),
        "auroc": auroc([r.confidence for r in r_in], [r.confidence for r in r_oos]),
    }


def auroc(pos: list[float], neg: list[float]) -> float:
    """Probability that an in-scope query gets a higher confidence than an out-of-scope one."""
    if not pos or not neg:
        return float("nan")
    import numpy as np

    p, n = np.asarray(pos), np.asarray(neg)
    return float(((p[:, None] > n[None, :]).sum() + 0.5 * (p[:, None] == n[None, :]).sum()) / (len(p) * len(n)))


def arabizi(settings: Settings, limit: int | None) -> dict[str, Any]:
    """DODa: the same Darija sentence in Latin and Arabic script — detection and retrieval agreement."""
    need_data("doda")
    rows = list(csv.DictReader((DATA / "doda" / "doda_sentences_latin_arabic.csv").open(encoding="utf-8")))
    rows = [r for r in rows if r["darija_latin"].strip() and r["darija_arabic"].strip()]
    random.Random(7).shuffle(rows)
    rows = rows[: limit or 1000]
    tmp = Path(tempfile.mkdtemp(prefix="bench-kb-"))
    index_via_cli([str(Path(__file__).resolve().parent.parent / "knowledge_base")], str(tmp / "index"))
    cp = Copilot(settings, index_dir=tmp / "index")
    lat = cp.search_many([r["darija_latin"] for r in rows], k=3)
    ara = cp.search_many([r["darija_arabic"] for r in rows], k=3)
    # the two scripts prefer different KB languages (Arabizi -> French, Darija -> Arabic): compare topics
    same1 = sum(1 for a, b in zip(lat, ara) if a.hits and b.hits and _topic(a.hits[0]) == _topic(b.hits[0]))
    jac = []
    for a, b in zip(lat, ara):
        sa, sb = {_topic(h) for h in a.hits}, {_topic(h) for h in b.hits}
        jac.append(len(sa & sb) / max(1, len(sa | sb)))
    return {
        "n": len(rows),
        "detected_latin_as_arabizi": sum(1 for r in lat if r.language.code == "ary-Latn") / len(rows),
        "detected_arabic_as_darija": sum(1 for r in ara if r.language.code == "ary") / len(rows),
        "same_top1": same1 / len(rows),
        "jaccard@3": sum(jac) / len(jac),
        "same_no_match_decision": sum(1 for a, b in zip(lat, ara) if a.no_match == b.no_match) / len(rows),
        "same_top1_when_both_match": _same_top1([(a, b) for a, b in zip(lat, ara) if not a.no_match and not b.no_match]),
    }


def _topic(hit: Any) -> str:
    """An article's topic group: its translation_key (shared by its translations), else its id."""
    return str(hit.chunk.translation_key or hit.article_id)


def _same_top1(pairs: list[tuple[Any, Any]]) -> float:
    if not pairs:
        return float("nan")
    return sum(1 for a, b in pairs if a.hits and b.hits and _topic(a.hits[0]) == _topic(b.hits[0])) / len(pairs)


def speed(settings: Settings, n_synthetic: int) -> dict[str, Any]:
    """Index throughput, batch search, latency at 100k chunks, and the LangChain FAISS peer path."""
    need_data("marsum", "xquad", "darijabanking")
    import numpy as np

    from copilot.embed import USEEmbedder
    from copilot.index import KBIndex
    from copilot.indexer import build_index
    from copilot.kb.chunk import chunk_article
    from copilot.retrieve import Retriever
    from copilot.types import Article

    out: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench-speed-"))
    # 1) indexing throughput on real multilingual text (MArSum articles + XQuAD paragraphs)
    kb = tmp / "speed_kb.jsonl"
    n_docs = 0
    with kb.open("w", encoding="utf-8") as f:
        for line in (DATA / "marsum").glob("*.jsonl").__next__().open(encoding="utf-8"):
            r = json.loads(line)
            f.write(
                json.dumps(
                    {"id": f"m{r['idx']}", "title": r["title"], "answer": r["article"], "language": "ar"}, ensure_ascii=False
                )
                + "\n"
            )
            n_docs += 1
        for line in (DATA / "xquad" / "paragraphs.jsonl").open(encoding="utf-8"):
            r = json.loads(line)
            f.write(
                json.dumps(
                    {"id": f"x{r['pid']}{r['lang']}", "title": r["title"], "answer": r["context"], "language": r["lang"]},
                    ensure_ascii=False,
                )
                + "\n"
            )
            n_docs += 1
    embedder = USEEmbedder(threads=settings.threads)
    embedder.embed_documents(["warm up"])
    rep = build_index([str(kb)], tmp / "idx", embedder, settings.replace(progress=False), embedder_spec="use", rebuild=True)
    out["index"] = {"documents": n_docs, "chunks": rep.chunks, "seconds": rep.seconds, "chunks_per_s": rep.chunks / rep.seconds}
    rep2 = build_index([str(kb)], tmp / "idx", embedder, settings.replace(progress=False), embedder_spec="use")
    out["reindex_unchanged"] = {"seconds": rep2.seconds, "embedded": rep2.embedded}

    # 2) batch search: 1,000 DarijaBanking questions (all four languages) against the bank FAQ
    rows = list(csv.DictReader((DATA / "darijabanking" / "darijabanking_train.csv").open(encoding="utf-8")))
    random.Random(3).shuffle(rows)
    qs = [r["text"] for r in rows[:1000]]
    index_via_cli([str(BENCH_FAQ)], str(tmp / "faq"))
    cp = Copilot(settings, index_dir=tmp / "faq")
    cp.retriever().warm_up()
    t0 = time.perf_counter()
    cp.search_many(qs, k=5)
    out["batch_search_1000"] = {"seconds": time.perf_counter() - t0}

    # 3) latency at n_synthetic chunks: random unit vectors + text sampled from the real chunks
    idx = KBIndex.load(tmp / "idx")
    rng = np.random.default_rng(0)
    words = " ".join(c.text for c in idx.chunks).split()
    chunks = []
    for i in range(n_synthetic):
        text = " ".join(words[j] for j in rng.integers(0, len(words), 60))
        chunks.extend(
            chunk_article(Article(id=f"s{i}", title=f"synthetic {i}", text=text, language="fr"), 10_000, 0, views=False)
        )
    vecs = rng.standard_normal((len(chunks), 512)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    big = KBIndex(chunks=chunks, vectors=vecs, manifest={"embedder": {"model_id": embedder.model_id}})
    r = Retriever(big, embedder, settings)
    t0 = time.perf_counter()
    r.warm_up()
    bm25_build = time.perf_counter() - t0
    lat = []
    for q in qs[:200]:
        t0 = time.perf_counter()
        r.search(q)
        lat.append((time.perf_counter() - t0) * 1000)
    out["latency_at_n"] = {
        "chunks": len(chunks),
        "bm25_build_s": bm25_build,
        "p50_ms": percentile(lat, 50),
        "p95_ms": percentile(lat, 95),
    }
    t0 = time.perf_counter()
    r.search_many(qs)
    out["latency_at_n"]["batch_1000_s"] = time.perf_counter() - t0

    # 4) peer path: LangChain's FAISS vector store over the same embedder, same KB, same queries
    try:
        from langchain_community.vectorstores import FAISS as LCFAISS
        from langchain_core.embeddings import Embeddings
    except ImportError:
        out["langchain"] = {"skipped": "pip install -r requirements-bench.txt (langchain-community)"}
        return out

    class LCAdapter(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_documents(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_queries([text])[0].tolist()

    texts = [c.embed_text for c in idx.chunks]
    t0 = time.perf_counter()
    store = LCFAISS.from_texts(texts, LCAdapter(), metadatas=[{"article_id": c.article_id} for c in idx.chunks])
    lc_index_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for q in qs:
        store.similarity_search_with_score(q, k=5)
    lc_search_s = time.perf_counter() - t0
    ours = Copilot(settings, index_dir=tmp / "idx")
    ours.retriever().warm_up()
    t0 = time.perf_counter()
    ours.search_many(qs, k=5)
    our_search_s = time.perf_counter() - t0
    out["langchain"] = {
        "chunks": len(texts),
        "lc_index_s": lc_index_s,
        "our_index_s": rep.seconds,
        "index_ratio": lc_index_s / rep.seconds,
        "lc_search_1000_s": lc_search_s,
        "our_search_1000_s": our_search_s,
        "search_ratio": lc_search_s / our_search_s,
    }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="darija,xquad,clinc,arabizi,speed")
    ap.add_argument("--limit", type=int, default=None, help="fewer queries per section (quick runs)")
    ap.add_argument("--ablation", action="store_true", help="also run dense-only and no-variant configurations")
    ap.add_argument("--synthetic", type=int, default=100_000, help="chunks for the latency-at-scale test")
    args = ap.parse_args(argv)
    settings = Settings.from_env(progress=False)
    sections = set(args.only.split(","))
    results: dict[str, Any] = {"settings": {"embedder": settings.embedder, "threads": settings.threads}}

    if "darija" in sections:
        db = darija_banking(settings, args.limit, args.ablation)
        results["darijabanking"] = {
            c: {lang: {k: v for k, v in m.items() if not k.startswith("_")} for lang, m in per.items()} for c, per in db.items()
        }
        results["_darijabanking_raw"] = db
        print("\n## DarijaBanking → 22-article French bank FAQ (in-scope top-1 / recall@3; out-of-scope flagged)\n")
        rows = []
        for cfg, per in db.items():
            for lang, m in per.items():
                rows.append(
                    [
                        cfg,
                        lang,
                        m["top1"],
                        m["recall@3"],
                        m["mrr"],
                        m["oos_flagged"],
                        m["in_scope_kept"],
                        m["language_detected"],
                        m["queries_per_s"],
                    ]
                )
        print(
            table(
                ["config", "language", "top-1", "recall@3", "MRR", "OOS flagged", "in-scope kept", "lang detected", "q/s"], rows
            )
        )
    if "xquad" in sections:
        xq = xquad(settings, args.limit)
        results["xquad"] = xq
        print("\n## XQuAD: English paragraphs as KB, questions per language\n")
        print(
            table(
                ["language", "n", "recall@1", "recall@5", "MRR"],
                [[k, v["n"], v["recall@1"], v["recall@5"], v["mrr"]] for k, v in xq.items()],
            )
        )
    if "clinc" in sections:
        cl = clinc(settings, args.limit)
        results["clinc150"] = cl
        print("\n## CLINC150 out-of-scope (KB: one FAQ entry per intent)\n")
        print(
            table(
                ["in-scope n", "OOS n", "top-1", "in-scope kept", "OOS flagged", "AUROC"],
                [[cl["n_in_scope"], cl["n_oos"], cl["top1"], cl["in_scope_kept"], cl["oos_flagged"], cl["auroc"]]],
            )
        )
    if "arabizi" in sections:
        az = arabizi(settings, args.limit)
        results["arabizi_doda"] = az
        print("\n## Arabizi vs Arabic script (DODa, same sentences) against the bundled KB\n")
        print(table(list(az.keys()), [list(az.values())]))
    if "speed" in sections:
        sp = speed(settings, args.synthetic)
        results["speed"] = sp
        print("\n## Speed (2 cores)\n")
        print("```\n" + json.dumps(sp, indent=2) + "\n```")
    path = save("retrieval", {k: v for k, v in results.items() if not k.startswith("_")})
    save("retrieval_raw", results)
    print(f"\nwrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
