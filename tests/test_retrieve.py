from __future__ import annotations

from pathlib import Path

from copilot.config import Settings
from copilot.embed import HashingEmbedder
from copilot.indexer import build_index
from copilot.lang import detect_language
from copilot.retrieve import match_confidence, plan_query, rrf
from copilot.service import Copilot


def test_rrf_prefers_items_ranked_high_in_several_lists() -> None:
    fused = rrf([[1, 2, 3], [2, 1], [2]], k=60)
    assert max(fused, key=fused.__getitem__) == 2
    assert fused[3] < fused[1]
    weighted = rrf([[1], [2]], k=60, weights=[1.0, 0.1])
    assert weighted[1] > weighted[2]


def test_plan_for_arabizi_has_script_and_gloss_variants() -> None:
    plan = plan_query("bghit nbdl lmot de passe")
    assert plan.language.code == "ary-Latn"
    assert plan.variants[0] == "bghit nbdl lmot de passe"
    assert len(plan.variants) >= 2
    assert any(any("\u0600" <= ch <= "\u06ff" for ch in v) for v in plan.variants), "an Arabic-script variant"
    plain = plan_query("ma facture est trop élevée", variants_on=True)
    assert plain.variants == ("ma facture est trop élevée",) and "factur" in plain.lexical
    assert plan_query("bghit nbdl lmot de passe", variants_on=False).variants == ("bghit nbdl lmot de passe",)


def test_confidence_is_monotonic() -> None:
    def f(top: float, gap: float = 0.1, lex: float = 0.5) -> float:
        return match_confidence({"dense_top": top, "dense_gap": gap, "lexical": lex})

    assert f(0.9) > f(0.5) > f(0.2)
    assert f(0.5, gap=0.3) > f(0.5, gap=0.0)
    assert f(0.5, lex=1.0) >= f(0.5, lex=0.0)
    assert 0.0 <= f(-1.0, -1.0, 0.0) <= f(1.0, 1.0, 1.0) <= 1.0


def test_search_groups_articles_and_prefers_customer_language(small_kb: Path, tmp_path: Path, settings: Settings) -> None:
    build_index([small_kb], tmp_path / "idx", HashingEmbedder(256), settings)
    cp = Copilot(settings, index_dir=tmp_path / "idx")
    fr = cp.search("ma facture est trop élevée", k=5)
    assert fr.language.code == "fr"
    assert fr.hits[0].article_id == "facture-elevee"
    assert "bill-too-high" in fr.hits[0].translations, "the English translation is folded into the French hit"
    assert len({h.article_id for h in fr.hits}) == len(fr.hits)
    en = cp.search("my bill is too high, I want to dispute it", k=5)
    assert en.hits[0].article_id == "bill-too-high"
    assert all(h.chunk.kind == "text" for h in fr.hits)


def test_no_match_threshold(small_kb: Path, tmp_path: Path, settings: Settings) -> None:
    build_index([small_kb], tmp_path / "idx", HashingEmbedder(256), settings)
    strict = Copilot(settings.replace(min_confidence=1.01), index_dir=tmp_path / "idx")
    assert strict.search("facture").no_match
    lax = Copilot(settings.replace(min_confidence=0.0), index_dir=tmp_path / "idx")
    assert not lax.search("facture").no_match


def test_batch_equals_single(small_kb: Path, tmp_path: Path, settings: Settings) -> None:
    build_index([small_kb], tmp_path / "idx", HashingEmbedder(256), settings)
    cp = Copilot(settings, index_dir=tmp_path / "idx")
    qs = ["délai de livraison", "retourner un produit", "mot de passe wifi"]
    batch = cp.search_many(qs)
    for q, b in zip(qs, batch):
        single = cp.search(q)
        assert [h.article_id for h in single.hits] == [h.article_id for h in b.hits]
    assert batch[0].hits[0].article_id == "faq-1"
    assert batch[1].hits[0].article_id == "faq-2"


def test_language_of_result_uses_detector() -> None:
    assert detect_language("quiero devolver un producto").code == "es"
