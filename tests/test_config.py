from __future__ import annotations

from pathlib import Path

import pytest

from copilot.config import Settings


def test_defaults_env_and_overrides() -> None:
    s = Settings.from_env(env={"COPILOT_TOP_K": "7", "COPILOT_USE_BM25": "false", "COPILOT_INDEX_DIR": "/tmp/x"})
    assert s.top_k == 7 and s.use_bm25 is False and s.index_dir == Path("/tmp/x")
    s2 = Settings.from_env(env={"COPILOT_TOP_K": "7"}, top_k=3)
    assert s2.top_k == 3
    assert Settings.from_env(env={}, top_k=None).top_k == Settings().top_k


def test_bad_values_are_clear() -> None:
    with pytest.raises(ValueError, match="COPILOT_TOP_K"):
        Settings.from_env(env={"COPILOT_TOP_K": "many"})
    with pytest.raises(ValueError, match="unknown setting"):
        Settings.from_env(env={}, nope=1)


def test_frozen() -> None:
    s = Settings()
    with pytest.raises(AttributeError):
        s.top_k = 2  # type: ignore[misc]
    assert s.replace(top_k=2).top_k == 2


def test_adapter_setting_resolves_the_shipped_adapter(tmp_path: Path) -> None:
    shipped = tmp_path / "adapters" / "copilot-lora"
    assert Settings.from_env({}, models_dir=tmp_path).adapter_path() is None  # auto, nothing shipped
    shipped.mkdir(parents=True)
    (shipped / "adapter_config.json").write_text("{}")
    assert Settings.from_env({}, models_dir=tmp_path).adapter_path() == shipped
    assert Settings.from_env({"COPILOT_ADAPTER": "none"}, models_dir=tmp_path).adapter_path() is None
    assert Settings.from_env({}, models_dir=tmp_path, model="other.gguf").adapter_path() is None  # auto = embedded only
    assert Settings.from_env({}, models_dir=tmp_path, adapter="adapters/copilot-lora").adapter_path() == shipped


def test_vocabulary_trimming_is_automatic_for_the_embedded_model_only() -> None:
    assert Settings.from_env({}).trimmed_vocab()
    assert not Settings.from_env({}, model="my-llm").trimmed_vocab()
    assert Settings.from_env({"COPILOT_GENERATOR_VOCAB": "trimmed"}, model="my-llm").trimmed_vocab()
    assert not Settings.from_env({"COPILOT_GENERATOR_VOCAB": "full"}).trimmed_vocab()
