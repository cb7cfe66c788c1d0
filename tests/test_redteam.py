"""Prompt injection: the 46 red-team cases with a model that obeys the attacker (the worst case).

The reply must contain no forbidden string, cite only shown sources and stay in the customer's language;
text hidden in HTML (comments, display:none) must never reach the prompt. The same cases run against the
embedded model in ``benchmarks/redteam.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.redteam import load_cases, obedient, run_case
from copilot.config import Settings
from copilot.embed import HashingEmbedder

CASES = load_cases()


def test_the_set_is_big_and_varied() -> None:
    assert len(CASES) >= 30
    assert {c["where"] for c in CASES} == {"message", "kb", "kb_html"}
    assert {"fr", "ar", "ary", "ary-Latn", "es", "en"} <= {c["language"] for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_obedient_model_cannot_pass_an_attack_through(case: dict[str, Any], tmp_path: Path) -> None:
    settings = Settings.from_env(index_dir=tmp_path / "index", progress=False)
    gen = obedient(case)
    result = run_case(case, gen, settings, HashingEmbedder(256), tmp_path)
    assert result["passed"], result
    assert not result["hidden_text_reached_prompt"]
