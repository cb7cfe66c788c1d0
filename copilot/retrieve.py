"""Hybrid cross-lingual retrieval: dense FAISS + BM25 over query variants, fused, grouped per article.

For each query: detect the language; build variants (for Darija: the Arabic-script form of an
Arabizi text, a French gloss and an MSA gloss from the lexicon); search FAISS with every variant
and BM25 with the union of their tokens; fuse the ranked lists with reciprocal rank fusion; keep
each article once (its best chunk) and each translated article once (in the customer's language
when the KB has it); decide ``no_match`` from a calibrated confidence.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from copilot.lang import detect_language
from copilot.textnorm import tokens
from copilot.types import Hit, LanguageInfo, SearchResult

if TYPE_CHECKING:
    from copilot.config import Settings
    from copilot.embed import Embedder
    from copilot.index import KBIndex

# The KB language an article should preferably be shown in, per customer language.
PREFERRED_KB_LANGUAGE = {"ary": "ar", "ary-Latn": "fr"}


@dataclass(frozen=True)
class QueryPlan:
    """What will be searched for one query: dense variants and lexical tokens."""

    text: str
    language: LanguageInfo
    variants: tuple[str, ...]
    lexical: tuple[str, ...]


def plan_query(text: str, language: LanguageInfo | None = None, *, variants_on: bool = True) -> QueryPlan:
    """Build the dense variants and BM25 tokens for a query (pure, apart from the lexicon file)."""
    lang = language or detect_language(text)
    variants = [text]
    lexical = tokens(text, lang.code if lang.code in ("fr", "es", "en") else "")
    if lang.is_darija and variants_on:
        from copilot.darija import arabizi_to_arabic, gloss

        fr = gloss(text, "fr")
        msa = gloss(text, "msa")
        if lang.code == "ary-Latn":
            variants.append(arabizi_to_arabic(text))
        variants.extend([fr, msa])
        lexical = lexical + tokens(fr, "fr") + tokens(msa, "ar")
    elif lang.code == "ar" and variants_on:
        from copilot.darija import gloss_msa

        fr = gloss_msa(text, "fr")
        variants.append(fr)
        lexical = lexical + tokens(fr, "fr")
    elif lang.mixed_with and lang.mixed_with[0] in ("fr", "es", "en"):
        lexical = lexical + tokens(text, lang.mixed_with[0])
    seen: set[str] = set()
    uniq = [v for v in variants if v.strip() and not (v in seen or seen.add(v))]  # type: ignore[func-returns-value]
    return QueryPlan(text=text, language=lang, variants=tuple(uniq), lexical=tuple(dict.fromkeys(lexical)))


def rrf(ranked_lists: Sequence[Sequence[int]], k: int = 60, weights: Sequence[float] | None = None) -> dict[int, float]:
    """Reciprocal rank fusion: sum of w / (k + rank) over the lists an item appears in (rank from 1)."""
    out: dict[int, float] = {}
    for li, items in enumerate(ranked_lists):
        w = 1.0 if weights is None else weights[li]
        for rank, item in enumerate(items, 1):
            out[item] = out.get(item, 0.0) + w / (k + rank)
    return out


def match_confidence(features: dict[str, float]) -> float:
    """Calibrated probability that the best article answers the query.

    A logistic model over the best article's cosine (``dense_top``), its lead over the next ten
    articles (``dense_gap``, which shifts less across languages than the raw cosine) and its BM25
    evidence (``lexical``). The coefficients are fitted on CLINC150 in-scope vs out-of-scope queries
    (tune-ok data) by ``benchmarks/calibrate.py``.
    """
    z = CALIBRATION["bias"] + sum(CALIBRATION.get(k, 0.0) * v for k, v in features.items())
    z = max(-50.0, min(50.0, z))
    return 1.0 / (1.0 + math.exp(-z))


# Fitted by benchmarks/calibrate.py (see README "No-match calibration").
CALIBRATION: dict[str, float] = {"bias": -3.967, "dense_top": 8.065, "dense_gap": 4.133, "lexical": 2.787}


class Retriever:
    """Searches one index with one embedder; thread-safe, BM25 built lazily on first search."""

    def __init__(self, index: KBIndex, embedder: Embedder, settings: Settings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._bm25: Any = None
        self._lock = threading.Lock()
        # the body chunk shown for an article that matched only through a view (title/question)
        self._first_text: dict[str, int] = {}
        for i, c in enumerate(index.chunks):
            if c.kind == "text":
                self._first_text.setdefault(c.article_id, i)

    def _lexical_index(self) -> Any:
        with self._lock:
            if self._bm25 is None:
                import bm25s

                logging.getLogger("bm25s").setLevel(logging.WARNING)  # it ships at DEBUG
                corpus = [
                    (tokens(f"{c.title} {c.text}", c.language) if c.kind == "text" else []) or [""] for c in self.index.chunks
                ]
                bm = bm25s.BM25()
                if corpus:
                    bm.index(corpus, show_progress=False)
                self._bm25 = bm
        return self._bm25

    def warm_up(self) -> None:
        """Load the embedder, the language model and BM25 before the first query."""
        self._lexical_index()
        self.embedder.embed_queries(["warm up"])
        detect_language("bonjour")

    def search(self, query: str, k: int | None = None) -> SearchResult:
        """Search one query; see ``search_many``."""
        return self.search_many([query], k)[0]

    def search_many(self, queries: Sequence[str], k: int | None = None) -> list[SearchResult]:
        """Search many queries at once (embedding and FAISS calls are batched).

        Args:
            queries: Customer messages or questions.
            k: Number of articles per result (default ``settings.top_k``).

        Returns:
            One ``SearchResult`` per query, in order.
        """
        k = k or self.settings.top_k
        t0 = time.perf_counter()
        plans = [plan_query(q, variants_on=self.settings.use_variants) for q in queries]
        t_plan = time.perf_counter()
        texts = [v for p in plans for v in p.variants]
        n_chunks = len(self.index.chunks)
        if n_chunks == 0 or not texts:
            return [SearchResult(query=p.text, language=p.language) for p in plans]
        vecs = self.embedder.embed_queries(texts)
        t_embed = time.perf_counter()
        cand = min(self.settings.candidates, n_chunks)
        d_scores, d_ids = self.index.search_vectors(vecs, cand)
        bm = self._lexical_index()
        results: list[SearchResult] = []
        row = 0
        for plan in plans:
            n = len(plan.variants)
            dense_lists: list[list[int]] = []
            best_dense: dict[int, float] = {}
            for r in range(row, row + n):
                ids = [int(i) for i in d_ids[r] if i >= 0]
                dense_lists.append(ids)
                for i, s in zip(d_ids[r], d_scores[r]):
                    if i >= 0:
                        best_dense[int(i)] = max(best_dense.get(int(i), -1.0), float(s))
            row += n
            lex_list: list[int] = []
            lex_score: dict[int, float] = {}
            if plan.lexical and self.settings.use_bm25:
                scores = bm.get_scores(list(plan.lexical))
                top = np.argsort(-scores)[:cand]
                for i in top:
                    if scores[i] <= 0:
                        break
                    lex_list.append(int(i))
                    lex_score[int(i)] = float(scores[i])
            results.append(self._fuse(plan, dense_lists, best_dense, lex_list, lex_score, k))
        t_end = time.perf_counter()
        per = 1000.0 / max(1, len(plans))
        for res in results:
            res.timings.update(
                plan_ms=(t_plan - t0) * per,
                embed_ms=(t_embed - t_plan) * per,
                search_ms=(t_end - t_embed) * per,
                total_ms=(t_end - t0) * per,
            )
        return results

    def _fuse(
        self,
        plan: QueryPlan,
        dense_lists: list[list[int]],
        best_dense: dict[int, float],
        lex_list: list[int],
        lex_score: dict[int, float],
        k: int,
    ) -> SearchResult:
        top_lex = max(lex_score.values()) if lex_score else 0.0
        if self.settings.fusion == "rrf":
            lists: list[Sequence[int]] = list(dense_lists)
            weights = [1.0] * len(dense_lists)
            if lex_list:
                lists.append(lex_list)
                weights.append(self.settings.bm25_weight)
            fused = rrf(lists, self.settings.rrf_k, weights)
            max_fused = sum(weights) / (self.settings.rrf_k + 1)
        else:
            # score fusion: best cosine over the query variants + weight x BM25 relative to the query's best
            floor = min(best_dense.values()) if best_dense else 0.0
            fused = dict(best_dense)
            for i, sc in lex_score.items():
                fused[i] = fused.get(i, floor) + self.settings.bm25_weight * sc / top_lex
            max_fused = 1.0
        chunks = self.index.chunks
        # score of an article = its best chunk or view; shown chunk = its best body chunk
        per_article: dict[str, float] = {}
        shown: dict[str, tuple[float, int]] = {}
        view_hits: dict[str, list[int]] = {}
        for i, s in fused.items():
            c = chunks[i]
            aid = c.article_id
            per_article[aid] = max(per_article.get(aid, 0.0), s)
            view_hits.setdefault(aid, []).append(i)
            if c.kind == "text" and (aid not in shown or s > shown[aid][0]):
                shown[aid] = (s, i)
        ranked = [
            (aid, (s, shown[aid][1] if aid in shown else self._first_text.get(aid, view_hits[aid][0])))
            for aid, s in sorted(per_article.items(), key=lambda kv: -kv[1])
        ]
        members_of: dict[int, list[int]] = {}
        for aid, (_, i) in ranked:
            members_of[i] = view_hits[aid]
        # one entry per translation group, in the customer's language when available
        pref = PREFERRED_KB_LANGUAGE.get(plan.language.code, plan.language.code)
        groups: dict[str, list[tuple[str, float, int]]] = {}
        order: list[str] = []
        for aid, (s, i) in ranked:
            key = chunks[i].translation_key or f"\x00{aid}"
            if key not in groups:
                order.append(key)
                groups[key] = []
            groups[key].append((aid, s, i))
        # evidence of a group = its best chunk's cosine over all variants, and its best BM25 score
        group_dense: dict[str, float] = {}
        group_lex: dict[str, float] = {}
        for key in order:
            rows = [j for m in groups[key] for j in members_of[m[2]]]
            group_dense[key] = max(best_dense.get(j, 0.0) for j in rows)
            group_lex[key] = max(lex_score.get(j, 0.0) for j in rows)
        hits: list[Hit] = []
        for key in order[:k]:
            members = groups[key]
            score = members[0][1]
            chosen = next((m for m in members if chunks[m[2]].language == pref), members[0])
            aid, _, i = chosen
            c = chunks[i]
            dense = group_dense[key]
            lex = group_lex[key]
            hits.append(
                Hit(
                    article_id=aid,
                    title=c.title,
                    score=score / max_fused,
                    language=c.language,
                    chunk=c,
                    dense_score=dense,
                    lexical_score=lex / top_lex if top_lex else 0.0,
                    url=c.url,
                    translations=tuple(m[0] for m in members if m[0] != aid),
                )
            )
        conf = 0.0
        features: dict[str, float] = {}
        if hits:
            ranked_dense = sorted(group_dense.values(), reverse=True)
            rest = ranked_dense[1:11]
            features = {
                "dense_top": ranked_dense[0],
                "dense_gap": ranked_dense[0] - (sum(rest) / len(rest) if rest else 0.0),
                "lexical": min(1.0, math.log1p(group_lex[order[0]]) / 3.0),
            }
            conf = match_confidence(features)
        return SearchResult(
            query=plan.text,
            language=plan.language,
            hits=hits,
            no_match=conf < self.settings.min_confidence,
            confidence=conf,
            timings={},
            features=features,
        )
