"""Finding generator weights: the embedded default, a user's Hugging Face folder or GGUF under models/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.config import Settings
from copilot.errors import InputError, ModelNotFound
from copilot.generators import make_generator
from copilot.models import MANIFEST, converted_folder, resolve_model


def tiny_gemma(folder: Path, chat_template: str = "") -> Path:
    """A tiny random Gemma-3 model with the embedded model's tokenizer (for fast tests of the real code paths)."""
    import torch
    from transformers import AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig

    from copilot.models import default_gguf

    root = Path(__file__).resolve().parent.parent / "models"
    base = Settings.from_env(models_dir=root, progress=False)
    default_gguf(base)
    tok = AutoTokenizer.from_pretrained(str(converted_folder(base, root / "cache" / "gemma-3-270m-q4_k_m.gguf", "gemma-3-270m")))
    if chat_template:
        tok.chat_template = chat_template
    cfg = Gemma3TextConfig(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=32,
        sliding_window=64,
        max_position_embeddings=512,
    )
    torch.manual_seed(0)
    Gemma3ForCausalLM(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def _settings(tmp_path: Path, model: str) -> Settings:
    return Settings.from_env(models_dir=tmp_path / "models", model=model, progress=False)


def test_user_hf_folder_and_gguf_are_found(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "my-llm"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    ref = resolve_model(_settings(tmp_path, "my-llm"), "hf")
    assert ref.kind == "hf" and ref.path == folder
    with pytest.raises(ModelNotFound, match=r"llama\.cpp needs a \.gguf"):
        resolve_model(_settings(tmp_path, "my-llm"), "gguf")
    gguf = tmp_path / "models" / "other.gguf"
    gguf.write_bytes(b"GGUF")
    ref = resolve_model(_settings(tmp_path, "other.gguf"), "gguf")
    assert ref.kind == "gguf" and ref.path == gguf


def test_missing_model_names_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="no generator model 'nope'"):
        resolve_model(_settings(tmp_path, "nope"), "hf")


def test_converted_folder_is_reused_when_complete(tmp_path: Path) -> None:
    s = _settings(tmp_path, "x")
    out = s.models_dir / "generator" / "x-hf"
    out.mkdir(parents=True)
    (out / "model.safetensors").write_bytes(b"0123456789")
    (out / MANIFEST).write_text(json.dumps({"format_version": 1, "weights_bytes": 10, "weights_sha256": "-"}), encoding="utf-8")
    assert converted_folder(s, tmp_path / "missing.gguf", "x") == out  # no conversion attempted


def test_unknown_backend_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown generator"):
        make_generator(_settings(tmp_path, "x"), "gpt-9000")
    assert make_generator(_settings(tmp_path, "x"), "none") is None


@pytest.mark.slow
def test_a_users_instruction_tuned_folder_uses_its_chat_template(tmp_path: Path) -> None:
    """A tiny random Gemma-3 model with a chat template, placed under models/, drafts through the same backend."""
    from copilot.generators import GenerationParams, Prompt, run_generation

    tiny_gemma(
        tmp_path / "models" / "tiny-chat",
        chat_template="{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}<assistant>",
    )
    gen = make_generator(_settings(tmp_path, "tiny-chat").replace(generator_quantize="none"), "transformers")
    assert gen is not None
    prompt = Prompt(system="rules", user="question", prefix="Bonjour, ")
    assert gen.render(prompt) == "<system>rules\n<user>question\n<assistant>Bonjour, "  # type: ignore[attr-defined]
    out = run_generation(gen, prompt, GenerationParams(max_new_tokens=5))
    assert out.text.startswith("Bonjour, ") and out.new_tokens >= 1 and gen.model_id == "transformers:tiny-chat"


def test_incomplete_conversion_is_redone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A conversion killed before its manifest was written (or a damaged folder) is converted again."""
    import copilot.models as models

    s = _settings(tmp_path, "x")
    out = s.models_dir / "generator" / "x-hf"
    out.mkdir(parents=True)
    (out / "model.safetensors").write_bytes(b"half-written")
    calls: list[Path] = []
    monkeypatch.setattr(models, "_convert", lambda settings, gguf, o, name: calls.append(o))
    assert converted_folder(s, tmp_path / "x.gguf", "x") == out
    assert calls == [out]
    (out / MANIFEST).write_text(json.dumps({"format_version": 1, "weights_bytes": 999, "weights_sha256": "-"}), encoding="utf-8")
    converted_folder(s, tmp_path / "x.gguf", "x")
    assert len(calls) == 2  # size mismatch: damaged, converted again
