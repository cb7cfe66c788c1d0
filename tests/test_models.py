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


def test_adapter_merges_into_a_gguf_for_llama_cpp(tmp_path: Path) -> None:
    """The llama.cpp backend gets the tuned model: the adapter's update lands in the GGUF tensors it touches
    (re-quantised Q8_0), everything else is copied byte for byte, and the result is cached."""
    import gguf
    import numpy as np
    from gguf.quants import dequantize, quantize
    from safetensors.numpy import save_file

    from copilot.models import merged_gguf

    rng = np.random.default_rng(0)
    base = tmp_path / "base.gguf"
    w = gguf.GGUFWriter(str(base), arch="gemma3")
    w.add_block_count(1)
    w.add_string("tokenizer.ggml.model", "llama")
    q = rng.normal(size=(64, 32)).astype(np.float32)
    norm = rng.normal(size=(32,)).astype(np.float32)
    w.add_tensor("blk.0.attn_q.weight", quantize(q, gguf.GGMLQuantizationType.Q8_0), raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.add_tensor("blk.0.attn_norm.weight", norm)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    adapter = tmp_path / "lora"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 2, "lora_alpha": 4, "target_modules": ["q_proj"]}))
    a = rng.normal(size=(2, 32)).astype(np.float32)
    b = rng.normal(size=(64, 2)).astype(np.float32)
    save_file(
        {
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": a,
            "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": b,
        },
        str(adapter / "adapter_model.safetensors"),
    )
    settings = Settings.from_env(models_dir=tmp_path / "models", progress=False)
    out = merged_gguf(settings, base, adapter)
    assert out.parent == tmp_path / "models" / "cache" and out.stat().st_size > 0
    r = gguf.GGUFReader(str(out))
    t = {x.name: x for x in r.tensors}
    base_q = dequantize(gguf.GGUFReader(str(base)).tensors[0].data, gguf.GGMLQuantizationType.Q8_0)
    merged = dequantize(t["blk.0.attn_q.weight"].data, t["blk.0.attn_q.weight"].tensor_type)
    assert np.allclose(merged, base_q + 2.0 * (b @ a), atol=0.05 * float(np.abs(base_q + 2.0 * (b @ a)).max()))
    assert not np.allclose(merged, base_q, atol=0.1)
    assert np.array_equal(t["blk.0.attn_norm.weight"].data, norm)
    assert r.fields["tokenizer.ggml.model"].contents() == "llama"
    assert merged_gguf(settings, base, adapter) == out  # cached: built once
