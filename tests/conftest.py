"""Shared fixtures: offline environment, a clean settings object, fakes and a small KB."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.config import Settings
from copilot.embed import HashingEmbedder

ROOT = Path(__file__).resolve().parent.parent
KB = ROOT / "knowledge_base"


@pytest.fixture(autouse=True)
def offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No hub access, no COPILOT_* leaking from the developer's shell, index under tmp_path."""
    import os

    for name in list(os.environ):
        if name.startswith("COPILOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("COPILOT_INDEX_DIR", str(tmp_path / "index"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(index_dir=tmp_path / "index", progress=False)


@pytest.fixture
def hashing() -> HashingEmbedder:
    return HashingEmbedder(256)


@pytest.fixture
def small_kb(tmp_path: Path) -> Path:
    """A four-file KB in three formats, written for the tests."""
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "facture.md").write_text(
        "---\nid: facture-elevee\ntitle: Contester une facture trop élevée\nlanguage: fr\n"
        "translation_key: bill\ntags: [facture, réclamation]\n---\n# Contester une facture trop élevée\n\n"
        "Si votre facture est plus élevée que d'habitude, vérifiez le détail de consommation dans votre espace client. "
        "Vous pouvez contester la facture sous 30 jours.\n",
        encoding="utf-8",
    )
    (kb / "bill.md").write_text(
        "---\nid: bill-too-high\ntitle: Disputing a bill that is too high\nlanguage: en\ntranslation_key: bill\n---\n"
        "If your bill is higher than usual, check the usage details in your customer area. You can dispute it within 30 days.\n",
        encoding="utf-8",
    )
    (kb / "wifi.txt").write_text(
        "Pour changer le mot de passe Wi-Fi de la box, connectez-vous à l'interface de la box puis choisissez Sécurité.\n",
        encoding="utf-8",
    )
    (kb / "faq.csv").write_text(
        "id,title,question,answer,language,url,tags\n"
        "faq-1,Livraison,Quel est le délai de livraison ?,La livraison prend 2 à 5 jours ouvrés.,fr,https://x.example/1,livraison;délai\n"
        'faq-2,Retour,"Comment retourner un produit ?","Vous avez 14 jours pour retourner un produit, gratuitement.",fr,,retour\n',
        encoding="utf-8",
    )
    return kb
