"""Tuning data is rendered with the runtime's own prompt builders (one source of truth)."""

from __future__ import annotations

import json
from pathlib import Path

from copilot.reply import build_prompt, stop_strings
from copilot.rewrite import rewrite_prompt
from copilot.summarize import summary_prompt
from copilot.tune import held_back, load_examples, split


def _write(d: Path, folder: str, row: dict[str, object]) -> None:
    (d / folder).mkdir(parents=True, exist_ok=True)
    with (d / folder / "part01.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")


def test_examples_render_like_the_runtime(tmp_path: Path) -> None:
    reply = {
        "id": "r-0001",
        "language": "fr",
        "reply_language": "fr",
        "sources": [{"title": "Frais", "text": "La livraison coûte 25 MAD."}],
        "message": "Combien ?",
        "context": "",
        "answerable": True,
        "answer": "la livraison coûte 25 MAD [1].",
    }
    summ = {
        "id": "s-0010",
        "language": "fr",
        "summary_language": "en",
        "turns": [{"speaker": "customer", "text": "Ma commande est en retard"}, {"speaker": "agent", "text": "Je vérifie."}],
        "summary": "Customer says the order is late. Agent checks.",
    }
    rew = {
        "id": "w-0002",
        "language": "fr",
        "task": "shorter",
        "target_language": "fr",
        "source_text": "x",
        "input": "Bonjour, la livraison coûte 25 MAD [1]. Bonne journée.",
        "output": "Bonjour, 25 MAD [1].",
    }
    _write(tmp_path, "replies", reply)
    _write(tmp_path, "summaries", summ)
    _write(tmp_path, "rewrites", rew)
    (tmp_path / "replies" / "part01.jsonl").open("a").write("{broken\n")
    ex = {e.kind: e for e in load_examples(tmp_path)}
    assert ex["reply"].prompt == build_prompt("fr", [("Frais", "La livraison coûte 25 MAD.")], "Combien ?", shots=0).as_text()
    assert ex["reply"].prompt.count("Source [1]") == 1  # tuned on the zero-shot prompt the tuned runtime uses
    assert ex["reply"].prompt.endswith("Bonjour, ") and ex["reply"].target == "la livraison coûte 25 MAD [1].\n"
    assert "\n" in stop_strings("fr")  # the runtime stops where the target ends
    assert (
        ex["summary"].prompt
        == summary_prompt([("customer", "Ma commande est en retard"), ("agent", "Je vérifie.")], "en").as_text()
    )
    assert ex["summary"].target.startswith("says the order is late")
    assert ex["rewrite"].prompt == rewrite_prompt(rew["input"], "shorter", "fr").as_text()  # type: ignore[arg-type]
    _train, held = split(list(ex.values()))
    assert [e.id for e in held] == ["s-0010"] and held_back("r01-0120") and not held_back("r01-0121")


def test_the_shipped_tuning_data_renders(tmp_path: Path) -> None:
    examples = load_examples()
    assert all(e.prompt and e.target.strip() for e in examples)
