"""The panel in a real browser (Debian chromium driven by Playwright) against a real `copilot serve`.

Flow: a French and a Darija message get a draft with a citation; a rewrite; accept after edit; the decision
is counted in the lead tab; a KB file is uploaded, indexed and found by search. Screenshots go to
``artifacts/screenshots/`` (gitignored). Skipped when chromium or playwright is missing, unless
``COPILOT_REQUIRE_BROWSER=1`` (set by ``.ci/run``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks._common import start_serve

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REQUIRE = os.environ.get("COPILOT_REQUIRE_BROWSER") == "1"


def _need_browser() -> None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        if REQUIRE:
            pytest.fail("playwright is required (COPILOT_REQUIRE_BROWSER=1)")
        pytest.skip("playwright not installed")
    if not Path(CHROMIUM).exists():
        if REQUIRE:
            pytest.fail("chromium is required (apt-get install chromium)")
        pytest.skip("chromium not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _need_browser()
    work = tmp_path_factory.mktemp("serve")
    kb = work / "kb"
    kb.mkdir()
    (kb / "livraison.md").write_text(
        "---\nid: livraison\ntitle: Frais de livraison\nlanguage: fr\ntranslation_key: delivery\ncategory: livraison\n---\n"
        "La livraison coûte 25 MAD par commande partout au Maroc. Elle est gratuite dès 300 MAD d'achats.\n",
        encoding="utf-8",
    )
    (kb / "livraison-ar.md").write_text(
        "---\nid: livraison-ar\ntitle: رسوم التوصيل\nlanguage: ar\ntranslation_key: delivery\ncategory: livraison\n---\n"
        "تبلغ تكلفة التوصيل 25 MAD لكل طلبية في جميع أنحاء المغرب، وهو مجاني ابتداءً من 300 MAD.\n",
        encoding="utf-8",
    )
    env = {**os.environ, "COPILOT_MODELS_DIR": str(work / "models"), "COPILOT_MIN_CONFIDENCE": "0.3"}
    with (work / "serve.log").open("wb") as log:
        try:
            proc, url = start_serve(["--index", str(work / "index"), "--kb", str(kb), "--generator", "none"], env, log, 180)
        except RuntimeError as e:
            raise RuntimeError((work / "serve.log").read_text(errors="replace")[-3000:]) from e
        try:
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_agent_flow_lead_view_and_knowledge(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server)
        message = page.locator("#message textarea")
        draft = page.locator("#draft textarea")
        # French message -> cited draft
        message.fill("Bonjour, combien coûte la livraison à Rabat ?")
        page.locator("#draft-btn").click()
        expect(draft).to_have_value(__import__("re").compile(r"25 MAD.*\[1\]", __import__("re").S), timeout=60_000)
        expect(page.locator("#badges")).to_contain_text("Français")
        expect(page.locator("#sources")).to_contain_text("[1] Frais de livraison")
        page.screenshot(path=str(SHOTS / "agent-fr.png"), full_page=True)
        # a rewrite keeps the citation
        page.locator("#rw-formal").click()
        expect(draft).to_have_value(__import__("re").compile(r"^Madame, Monsieur,.*\[1\]", __import__("re").S), timeout=30_000)
        # accept after edit
        draft.fill(draft.input_value() + "\nBonne journée.")
        page.locator("#accept-edit").click()
        expect(page.locator("#status")).to_contain_text("Accepted after edit", timeout=30_000)
        # Darija message -> MSA source, Darija greeting
        message.fill("شحال كيكلف التوصيل؟")
        page.locator("#draft-btn").click()
        expect(draft).to_have_value(__import__("re").compile(r"السلام عليكم.*\[1\]", __import__("re").S), timeout=60_000)
        expect(page.locator("#badges")).to_contain_text("Darija")
        page.screenshot(path=str(SHOTS / "agent-darija.png"), full_page=True)
        page.locator("#accept").click()
        expect(page.locator("#status")).to_contain_text("Accepted", timeout=30_000)
        # lead tab counts the decisions
        page.get_by_role("tab", name="Team lead").click()
        expect(page.locator("#stats")).to_contain_text("accepted after edit", timeout=30_000)
        expect(page.locator("#stats")).to_contain_text("Drafts shown** 2".replace("**", ""), timeout=30_000)
        page.screenshot(path=str(SHOTS / "lead.png"), full_page=True)
        # knowledge: upload a file, re-index, find it
        new = tmp_path / "horaires.md"
        new.write_text(
            "---\nid: horaires\ntitle: Horaires des agences Zebrafish\nlanguage: fr\n---\n"
            "Les agences Zebrafish ouvrent de 9h à 18h du lundi au samedi.\n",
            encoding="utf-8",
        )
        page.get_by_role("tab", name="Knowledge").click()
        page.locator("#kb-files input[type=file]").set_input_files(str(new))
        page.locator("#reindex").click()
        expect(page.locator("#index-status")).to_contain_text("Indexed", timeout=120_000)
        page.locator("#kb-query textarea").fill("horaires des agences zebrafish")
        page.locator("#kb-search").click()
        expect(page.locator("#kb-results")).to_contain_text("Horaires des agences Zebrafish", timeout=30_000)
        page.screenshot(path=str(SHOTS / "knowledge.png"), full_page=True)
        browser.close()
