"""Panel handlers and the feedback store, without a server (the browser test drives the real thing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.config import Settings
from copilot.embed import HashingEmbedder
from copilot.errors import CopilotError
from copilot.feedback import FeedbackStore, SchemaInfo, edit_distance
from copilot.panel import Panel, build_app, parse_auth
from copilot.service import Copilot


@pytest.fixture
def panel(small_kb: Path, tmp_path: Path) -> Panel:
    settings = Settings.from_env(index_dir=tmp_path / "idx", progress=False, min_confidence=0.0, models_dir=tmp_path / "models")
    cp = Copilot(settings, embedder=HashingEmbedder(256), embedder_spec="hashing", generator=None)
    cp.build_index([small_kb])
    return Panel(cp, FeedbackStore(f"sqlite:///{tmp_path / 'fb.db'}"), [small_kb])


def test_draft_decide_and_stats(panel: Panel) -> None:
    d, st = panel.draft("Quel est le délai de livraison ? Mon numéro : 06 12 34 56 78", agent="alice")
    assert d.citations and st["draft_id"] == 1 and st["language"] == "fr"
    assert panel.decide(st, "edited", d.reply + "\nBonne journée.", "", "alice").startswith("Accepted after edit")
    d2, st2 = panel.draft("Comment retourner un produit ?", agent="bob")
    with pytest.raises(CopilotError, match="reason"):
        panel.decide(st2, "rejected", d2.reply, "")
    panel.decide(st2, "rejected", d2.reply, "wrong article", "bob")
    s = panel.store.stats()
    assert s["drafts"] == 2 and s["edited"] == 1 and s["rejected"] == 1 and s["reasons"] == {"wrong article": 1}
    assert set(s["by_agent"]) == {"alice", "bob"} and 0 < s["mean_edit_distance"] < 0.5
    # customer text is stored redacted by default
    with panel.store.tx() as sess:
        from copilot.feedback import DraftRow

        stored = sess.get(DraftRow, 1)
        assert stored is not None and "06 12 34 56 78" not in stored.message and "<PHONE_1>" in stored.message


def test_accept_after_edit_without_change_counts_as_accept(panel: Panel) -> None:
    d, st = panel.draft("Quel est le délai de livraison ?")
    panel.decide(st, "edited", d.reply, "")
    assert panel.store.stats()["accepted"] == 1


def test_conversation_input_rewrite_translate(panel: Panel) -> None:
    d, st = panel.draft(
        "Customer: bonjour\nAgent: bonjour, que puis-je faire ?\nCustomer: ma facture est trop élevée, je peux la contester ?"
    )
    assert d.citations[0].article_id == "facture-elevee"
    text, note = panel.rewrite(d.reply, "empathetic", st)
    assert "[1]" in text and "désolé" in text and "rule-based" in note
    text, note = panel.translate(d.reply, "en", st)
    assert "30 days" in text and "[1]" in text


def test_summaries_queue_gaps_and_article(panel: Panel, tmp_path: Path) -> None:
    out = panel.summarize(
        "Client: ma commande SE-2026-123456 est en retard !!\nConseiller: je transmets une réclamation.", "fr", "c1"
    )
    assert out["summary_id"] == 1 and out["resolution"]["status"] == "escalated"
    export = tmp_path / "s.jsonl"
    export.write_text(
        json.dumps(
            {
                "id": "x",
                "language": "en",
                "summary": "Customer asks.",
                "category": "billing",
                "resolution": {"status": "resolved"},
                "sentiment": {"end": "positive"},
            }
        )
        + "\n{bad\n",
        encoding="utf-8",
    )
    assert panel.import_summaries(str(export)) == 1
    assert [r["conversation_id"] for r in panel.store.summaries(status="resolved")] == ["x"]
    panel.store.update_summary(1, text="Résumé corrigé.", approved=True)
    row = panel.store.summaries(language="fr")[0]
    assert row["approved"] and row["edited"] and row["summary"] == "Résumé corrigé."
    panel.copilot = Copilot(
        panel.copilot.settings.replace(min_confidence=1.01),
        embedder=HashingEmbedder(256),
        embedder_spec="hashing",
        generator=None,
    )
    for q in ("quel temps fait-il à Paris ?", "quel temps à Paris demain ?", "recrutez-vous des stagiaires ?"):
        panel.draft(q)
    groups = panel.gap_groups(threshold=0.3)
    assert sum(g["count"] for g in groups) == 3 and groups[0]["count"] >= 2
    article = panel.article_from_conversation(
        "Client: ma box clignote rouge\nConseiller: redémarrez la box et attendez 5 minutes."
    )
    assert article.startswith("---\nid: draft-") and "redémarrez la box" in article


def test_upload_and_index(panel: Panel, tmp_path: Path) -> None:
    f = tmp_path / "zebre.md"
    f.write_text("---\nid: zebre\ntitle: Horaires Zebrafish\n---\nLes agences Zebrafish ouvrent à 9h.\n", encoding="utf-8")
    assert "articles" in panel.upload_and_index([str(f)])
    assert panel.copilot.search("horaires zebrafish").hits[0].article_id == "zebre"


def test_store_transactions_and_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fb.db'}"
    store = FeedbackStore(url)
    with pytest.raises(CopilotError, match="no draft"):
        store.record_decision(99, "accepted")
    with pytest.raises(RuntimeError), store.tx() as s:  # a failed transaction leaves nothing behind
        s.add(SchemaInfo(id=2, version=1))
        raise RuntimeError("boom")
    with store.tx() as s:
        assert s.get(SchemaInfo, 2) is None
        s.get(SchemaInfo, 1).version = 99  # type: ignore[union-attr]
    with pytest.raises(CopilotError, match="newer than this copilot"):
        FeedbackStore(url)
    assert edit_distance("abc", "abc") == 0.0 and edit_distance("abc", "xyz") == 1.0


def test_auth_spec_and_app_builds(panel: Panel) -> None:
    assert parse_auth("alice:s1:agent, bob:s2:lead") == {"alice": ("s1", "agent"), "bob": ("s2", "lead")}
    with pytest.raises(CopilotError):
        parse_auth("alice:s1:boss")
    app = build_app(panel)
    names = {d.api_name for d in app.fns.values() if getattr(d, "api_name", None)}
    assert {"draft_reply", "search", "summarize", "feedback"} <= names
