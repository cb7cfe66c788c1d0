"""Summaries: parsing, PII, entity checks, extractive/generated paths, the batch CLI with a real kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from copilot.cli import main
from copilot.config import Settings
from copilot.embed import HashingEmbedder
from copilot.generators import Prompt
from copilot.generators.scripted import ScriptedGenerator
from copilot.pii import Redactor, iban_ok, luhn_ok
from copilot.sentiment import sentiment_label
from copilot.service import Copilot
from copilot.summarize import (
    entities,
    lead_summary,
    parse_conversation,
    summary_grounding,
    translation_problems,
    unfaithful,
)

CONV = [
    {
        "speaker": "customer",
        "text": "Bonjour, ma commande SE-2026-123456 de 399 MAD n'est toujours pas arrivée, j'en ai marre !!",
    },
    {"speaker": "agent", "text": "Je suis désolé. Je vérifie le suivi de votre colis."},
    {
        "speaker": "agent",
        "text": "Le colis est bloqué chez le transporteur, je transmets une réclamation, vous serez rappelé sous 48 heures.",
    },
    {"speaker": "customer", "text": "Merci. Mon numéro est le 06 12 34 56 78."},
]


def test_parse_text_and_turns() -> None:
    text = "Client: Bonjour\nma box ne marche plus\nConseiller: Redémarrez-la.\nCustomer: ok"
    assert parse_conversation(text) == [
        ("customer", "Bonjour ma box ne marche plus"),
        ("agent", "Redémarrez-la."),
        ("customer", "ok"),
    ]
    assert parse_conversation(CONV)[1] == ("agent", CONV[1]["text"])
    for bad in ("", [], 42, [{"speaker": "agent", "text": "  "}]):
        with pytest.raises(ValueError):
            parse_conversation(bad)


def test_entities_and_faithfulness() -> None:
    src = "Commande SE-2026-123456 de 1 500 MAD livrée le 12/03/2026, écrivez à a@b.example"
    assert {"se-2026-123456", "1500", "12/03/2026", "a@b.example"} <= entities(src)
    assert unfaithful("Le client a payé 1500 MAD pour SE-2026-123456.", src) == []
    assert sorted(unfaithful("Le client a payé 1600 MAD le 13/03/2026.", src)) == ["13/03/2026", "1600"]


def test_pii_redaction_keeps_facts_and_restores() -> None:
    r = Redactor()
    text = "Appelez-moi au 06 12 34 56 78 ou au +33 6 12 34 56 78, ali@example.ma, commande SE-2026-123456 (399 MAD)."
    out = r.redact(text)
    assert "<PHONE_1>" in out and "<PHONE_2>" in out and "<EMAIL_1>" in out
    assert "SE-2026-123456" in out and "399 MAD" in out
    assert r.redact("encore le 06 12 34 56 78") == "encore le <PHONE_1>"  # consistent within a conversation
    assert r.restore(out) == text
    assert iban_ok("FR76 3000 6000 0112 3456 7890 189") and not iban_ok("FR76 3000 6000 0112 3456 7890 188")
    assert luhn_ok("4111 1111 1111 1111") and not luhn_ok("4111 1111 1111 1112")


def test_sentiment_labels() -> None:
    assert sentiment_label("J'en ai MARRE, c'est inadmissible !!") == "negative"
    assert sentiment_label("merci beaucoup, c'est réglé") == "positive"
    assert sentiment_label("wach kayn chi mochkil f rizo? 3iyit") == "negative"
    assert sentiment_label("d'accord") == "neutral"


def test_lead_summary_english_third_person() -> None:
    s = lead_summary("My phone is broken and I want a refund!!", "Please DM us your order number.", "en")
    assert s.startswith("Customer is complaining that their phone is broken and customer want a refund")
    assert "Agent asks to Please DM agent their order number." in s


def _copilot(tmp_path: Path, script: list[str] | None) -> Copilot:
    settings = Settings.from_env(
        index_dir=tmp_path / "none", progress=False, categories="livraison,facturation,internet", summary_generator="default"
    )
    gen = ScriptedGenerator(script) if script is not None else None
    return Copilot(settings, embedder=HashingEmbedder(128), embedder_spec="hashing", generator=gen)


def test_extractive_summary_fields(tmp_path: Path) -> None:
    s = _copilot(tmp_path, None).summarize_conversation(CONV)
    d = s.to_dict()
    assert {"language", "summary", "issue", "actions", "resolution", "next_steps", "sentiment", "category", "path"} <= set(d)
    assert d["language"] == "fr" and d["summary_language"] == "fr" and d["path"] == "extractive"
    assert "SE-2026-123456" in d["issue"] and d["resolution"]["status"] == "escalated"
    assert d["sentiment"] == {"start": "negative", "end": "positive"}
    assert d["category"] in ("livraison", "facturation", "internet")
    assert "06 12" not in json.dumps(d) and len(d["summary"].split()) <= 100
    assert not unfaithful(d["summary"], " ".join(t["text"] for t in CONV))


def test_generated_summary_is_validated(tmp_path: Path) -> None:
    good = "signale que sa commande SE-2026-123456 n'est pas arrivée ; l'agent transmet une réclamation."
    s = _copilot(tmp_path, [good]).summarize_conversation(CONV)
    assert s.path == "generated" and s.summary.startswith("Le client signale") and s.model == "scripted"
    bad = "signale que sa commande SE-2026-999999 de 450 MAD n'est pas arrivée ; l'agent rembourse."
    s2 = _copilot(tmp_path, [bad]).summarize_conversation(CONV)
    assert s2.path == "extractive" and any("entities" in r for r in s2.rejected)


def test_generated_summary_must_come_from_the_conversation(tmp_path: Path) -> None:
    """In the conversation's language, a paragraph whose words are not the conversation's (a step that was never
    said) is rejected for the extractive one; the frame words (client, agent, signale) do not count against it."""
    invented = "signale que sa commande SE-2026-123456 n'est pas arrivée ; l'agent offre un bon d'achat et la livraison express gratuite."
    s = _copilot(tmp_path, [invented]).summarize_conversation(CONV)
    assert s.path == "extractive" and any("wanders from the conversation" in r for r in s.rejected)
    assert summary_grounding("Le client signale que sa commande n'est pas arrivée.", parse_conversation(CONV), "fr") == 1.0
    settings = Settings.from_env(
        index_dir=tmp_path / "none", progress=False, summary_generator="default", summary_min_grounding=0
    )
    cp = Copilot(settings, embedder=HashingEmbedder(128), embedder_spec="hashing", generator=ScriptedGenerator([invented]))
    assert cp.summarize_conversation(CONV).path == "generated"  # the gate is a setting


def test_summary_in_another_language(tmp_path: Path) -> None:
    conv = [
        {"speaker": "customer", "text": "salam, lcommande dyali mazal ma wslatnich, 3iyit ntsna"},
        {"speaker": "agent", "text": "Je vérifie votre commande tout de suite."},
    ]
    s = _copilot(tmp_path, None).summarize_conversation(conv, language="fr")
    assert s.language == "ary-Latn" and s.summary_language == "fr"
    assert s.summary.startswith("Le client") and "commande" in s.summary


def _write_export(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            conv = [
                {"speaker": "customer", "text": f"Ma commande SE-2026-{100000 + i} n'est pas arrivée."},
                {"speaker": "agent", "text": "Je transmets une réclamation au transporteur."},
            ]
            f.write(json.dumps({"id": f"c{i}", "turns": conv}, ensure_ascii=False) + "\n")
            if i == 3:
                f.write("{not json\n")
                f.write(json.dumps({"id": "empty", "turns": []}) + "\n")


def test_cli_summarize_jsonl_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "export.jsonl"
    _write_export(src, 6)
    out = tmp_path / "out.jsonl"
    argv = ["summarize", str(src), "--output", str(out), "--generator", "none", "--embedder", "hashing", "--no-progress"]
    assert main([*argv, "--language", "en"]) == 0
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 8 and sum("error" in r for r in rows) == 2
    ok = [r for r in rows if "error" not in r]
    assert all(r["summary_language"] == "en" and r["summary"].startswith("Customer") for r in ok)
    assert "summarised 6 conversations" in capsys.readouterr().err
    csv_in = tmp_path / "t.csv"
    csv_in.write_text('id,text\nx1,"Client: ma facture est trop élevée\nConseiller: je vérifie"\nx2,\n', encoding="utf-8")
    assert (
        main(["summarize", str(csv_in), "--output", str(tmp_path / "c.jsonl"), "--generator", "none", "--embedder", "hashing"])
        == 0
    )
    rows = [json.loads(x) for x in (tmp_path / "c.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[0]["id"] == "x1" and rows[0]["issue"] and "error" in rows[1]
    assert main(["summarize", str(tmp_path / "missing.jsonl")]) == 1


def test_kill_9_then_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    """A real kill -9 in the middle of a batch; rerunning the same command completes it exactly."""
    src = tmp_path / "export.jsonl"
    n = 400
    _write_export(src, n)
    out = tmp_path / "out.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "copilot",
        "summarize",
        str(src),
        "--output",
        str(out),
        "--generator",
        "none",
        "--embedder",
        "hashing",
        "--no-progress",
    ]
    env = {**os.environ, "COPILOT_INDEX_DIR": str(tmp_path / "none")}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        if out.exists() and len(out.read_bytes().splitlines()) >= 40:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = out.read_bytes().count(b"\n")
    assert 0 < partial < n + 2, "the kill should land mid-batch"
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    ids = [json.loads(x)["id"] for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == len(set(ids)) == n + 2  # every row once (incl. the 2 error rows), none twice
    assert "already done" in done.stderr


def test_default_settings_summarise_extractively_without_calling_the_model(tmp_path: Path) -> None:
    gen = ScriptedGenerator(["signale que sa commande SE-2026-123456 n'est pas arrivée ; l'agent transmet une réclamation."])
    settings = Settings.from_env(index_dir=tmp_path / "none", progress=False)
    cp = Copilot(settings, embedder=HashingEmbedder(128), embedder_spec="hashing", generator=gen)
    s = cp.summarize_conversation(CONV)
    assert s.path == "extractive" and gen.prompts == []
    assert cp.summarize_conversation(CONV, use_generator=True).path == "generated"


def test_translate_summary_generator_translates_the_quotes_only_across_languages(tmp_path: Path) -> None:
    """``summary_generator=translate``: extractive when the summary is in the conversation's language; across languages
    (or from Darija) the model translates the paragraph's two quotes and the issue, actions and next steps, and a
    translation that adds a number is rejected (that sentence stays as the conversation has it)."""
    translations = {
        "commande SE": "My order SE-2026-123456 of 399 MAD has still not arrived, I am fed up!!",
        "Le colis": "The parcel is stuck at the carrier, I am filing a complaint, you will get a call within 48 hours.",
        "Je vérifie le suivi": "I am checking the tracking of your parcel.",
        "lcommande": "Ma commande n'est toujours pas arrivée, j'en ai assez d'attendre.",
    }

    def script(prompt: Prompt) -> str:
        return next((v for k, v in translations.items() if k in prompt.user), "")

    gen = ScriptedGenerator(script)
    settings = Settings.from_env(index_dir=tmp_path / "none", progress=False, summary_generator="translate")
    cp = Copilot(settings, embedder=HashingEmbedder(128), embedder_spec="hashing", generator=gen)
    same = cp.summarize_conversation(CONV)  # French conversation, French summary
    assert same.path == "extractive" and gen.prompts == []
    cross = cp.summarize_conversation(CONV, language="en")  # French conversation, English summary for the lead
    assert cross.path == "translated" and cross.model == "scripted" and not cross.rejected, cross.rejected
    assert cross.summary.startswith("Customer is complaining that their order SE-2026-123456 of 399 MAD")
    assert "Agent says that The parcel is stuck at the carrier, agent is filing a complaint" in cross.summary
    assert cross.issue == translations["commande SE"]
    assert set(cross.actions) <= {translations["Le colis"], translations["Je vérifie le suivi"]} and cross.actions
    assert all(a in translations.values() for a in cross.next_steps)
    prompts = [p.user for p in gen.prompts]
    assert all("Translate the text into English" in p for p in prompts) and len(prompts) == len(set(prompts)) <= 3
    assert not unfaithful(" ".join([cross.summary, cross.issue, *cross.actions]), " ".join(t["text"] for t in CONV))
    # a translation that invents a number is not used; the other sentences still are
    translations["Le colis"] = "The parcel is stuck, you will get a call within 72 hours."
    bad = cp.summarize_conversation(CONV, language="en")
    assert bad.path == "translated" and "My order SE-2026-123456" not in bad.summary  # third person, translated
    assert "Le colis est bloqué" in bad.summary and any(r.startswith("agent quote: new facts") for r in bad.rejected)
    assert "72" not in " ".join([bad.summary, *bad.actions, *bad.next_steps])
    darija = [
        {"speaker": "customer", "text": "salam, lcommande dyali mazal ma wslatnich, 3iyit ntsna"},
        {"speaker": "agent", "text": "Je vérifie votre commande tout de suite."},
    ]
    n = len(gen.prompts)
    fr = cp.summarize_conversation(darija)  # Arabizi -> French by default; the agent's French quote needs no model
    assert fr.summary_language == "fr" and fr.path == "translated" and len(gen.prompts) == n + 1
    assert "Ma commande n'est toujours pas arrivée" in fr.summary and "Je vérifie votre commande" in fr.summary
    assert fr.issue == translations["lcommande"]
    # the same conversation with the model switched off, or no model configured: extractive, nothing lost
    off = Copilot(
        settings.replace(summary_generator="none"), embedder=HashingEmbedder(128), embedder_spec="hashing", generator=gen
    )
    assert off.summarize_conversation(CONV, language="en").path == "extractive" and len(gen.prompts) == n + 1
    none = Copilot(settings, embedder=HashingEmbedder(128), embedder_spec="hashing", generator=None)
    assert none.summarize_conversation(CONV, language="en").path == "extractive"
    # asking for the model explicitly still gives the model's own paragraph
    gen2 = ScriptedGenerator(["says that order SE-2026-123456 has not arrived; the agent files a complaint."])
    cp2 = Copilot(settings, embedder=HashingEmbedder(128), embedder_spec="hashing", generator=gen2)
    assert cp2.summarize_conversation(CONV, language="en", use_generator=True).path == "generated"


def test_auto_summary_generator_uses_the_model_only_across_languages(tmp_path: Path) -> None:
    """``summary_generator=auto``: extractive when the summary is in the conversation's language, the model
    when it is not (the extractive path could only copy the conversation's words) or the conversation is Darija."""
    gen = ScriptedGenerator(
        [
            "says that order SE-2026-123456 has not arrived; the agent files a complaint.",
            "says that their order has still not arrived after a long wait; the agent is checking it.",
            "signale que sa commande n'est toujours pas arrivée ; l'agent la vérifie.",
        ]
    )
    settings = Settings.from_env(index_dir=tmp_path / "none", progress=False, summary_generator="auto")
    cp = Copilot(settings, embedder=HashingEmbedder(128), embedder_spec="hashing", generator=gen)
    same = cp.summarize_conversation(CONV)  # French conversation, French summary
    assert same.path == "extractive" and gen.prompts == []
    cross = cp.summarize_conversation(CONV, language="en")  # French conversation, English summary for the lead
    assert cross.path == "generated" and cross.summary.startswith("Customer says that order SE-2026-123456")
    assert len(gen.prompts) == 1
    darija = [
        {"speaker": "customer", "text": "salam, lcommande dyali mazal ma wslatnich, 3iyit ntsna"},
        {"speaker": "agent", "text": "Je vérifie votre commande tout de suite."},
    ]
    assert cp.summarize_conversation(darija, language="en").path == "generated"
    fr = cp.summarize_conversation(darija)  # Arabizi -> French by default: still another language than Darija
    assert fr.summary_language == "fr" and fr.path == "generated" and len(gen.prompts) == 3
    # the same conversation with the model switched off, or no model configured: extractive, nothing lost
    off = Copilot(
        settings.replace(summary_generator="none"), embedder=HashingEmbedder(128), embedder_spec="hashing", generator=gen
    )
    assert off.summarize_conversation(CONV, language="en").path == "extractive" and len(gen.prompts) == 3
    none = Copilot(settings, embedder=HashingEmbedder(128), embedder_spec="hashing", generator=None)
    assert none.summarize_conversation(CONV, language="en").path == "extractive"


def test_translation_problems_catch_what_the_small_model_does_instead_of_translating() -> None:
    src = "ma bghitch nlghi lkarta, bghit ghir njemmedha chi chwiya"
    assert translation_problems(src, "I don't want to cancel the card, I just want to freeze it for a while", "en") == []
    assert "several paragraphs (a reply, not a translation)" in translation_problems(
        src, "Hello,\n\nI'll check with the card team and get back to you.", "en"
    )
    assert "repeated words" in translation_problems(src, "I want to pay " + "in cash or " * 8, "en")
    assert "prompt scaffolding" in translation_problems(src, "Je veux bloquer la carte [n]. Réponse du conseiller", "fr")
    assert "much shorter than the original" in translation_problems(src, "Hello,", "en")
