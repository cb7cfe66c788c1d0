"""The embedded generator: a transformers causal LM on CPU with a KV cache and token streaming.

Speed on a 2-core CPU comes from three measured choices (see ``benchmarks/replies.py``):
dynamic int8 quantisation of the linear layers (fbgemm kernels; the 262k-token output layer is
most of the per-token cost), computing the output layer only where a token is needed, and
prompt-lookup decoding: a grounded reply copies spans of its source, so the tokens that followed
the last n-gram in the prompt are proposed and checked in one forward pass. In float this is exact
(the same text as token-by-token greedy decoding); with int8 dynamic quantisation the activation
scale is computed over the tokens of each pass, so the text can differ slightly (still greedy and
deterministic).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot.errors import MissingDependency
from copilot.generators import GenerationParams, Prompt

if TYPE_CHECKING:
    from copilot.config import Settings
    from copilot.models import ModelRef

log = logging.getLogger(__name__)


class TransformersGenerator:
    """Local transformers backend (default). Loads on first use.

    Args:
        settings: ``model``, ``models_dir``, ``threads``, ``generator_quantize`` (``int8`` or ``none``),
            ``generator_lookup`` (prompt-lookup draft length, 0 disables), ``max_prompt_tokens``.
    """

    remote = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._ref: ModelRef | None = None
        self._model: Any = None
        self._tok: Any = None
        self._head: Any = None
        self._keep: Any = None  # token ids of a trimmed output layer (None: full vocabulary)
        self._full_weight: Any = None
        self._chat = False
        self._lock = threading.Lock()
        self.last_stats: dict[str, float] = {}

    @property
    def model_id(self) -> str:
        name = self._ref.name if self._ref else (self.settings.model or "gemma-3-270m")
        q = "-int8" if self.settings.generator_quantize == "int8" else ""
        adapter = self.settings.adapter_path()
        a = f"+{adapter.name}" if adapter else ""
        t = "-trimmed" if self.settings.trimmed_vocab() else ""
        return f"transformers:{name}{a}{q}{t}"

    @property
    def prompt_shots(self) -> int:
        """Worked examples the reply prompt needs: none once tuned (the adapter learned the format)."""
        return 0 if self.settings.adapter_path() is not None else 1

    # ------------------------------------------------------------------ loading
    def load(self) -> None:
        """Load (and on first use assemble/convert) the model; safe to call many times."""
        with self._lock:
            if self._model is not None:
                return
            try:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError as e:  # pragma: no cover
                raise MissingDependency(f"the transformers backend needs torch and transformers ({e})") from e
            from copilot.models import resolve_model

            ref = resolve_model(self.settings, "hf")
            t0 = time.perf_counter()
            torch.set_num_threads(self.settings.threads)
            tok = AutoTokenizer.from_pretrained(str(ref.path), local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(str(ref.path), dtype=torch.float32, local_files_only=True).eval()
            adapter = self.settings.adapter_path()
            if adapter is not None:
                model = _merge_adapter(model, adapter)
            head = model.get_output_embeddings()
            self._keep = None
            if self.settings.trimmed_vocab():
                import torch

                keep = torch.tensor(sorted(_kept_vocabulary(tok, self.settings.models_dir)), dtype=torch.long)
                self._full_weight = head.weight.detach()
                trimmed = torch.nn.Linear(head.in_features, len(keep), bias=False)
                trimmed.weight = torch.nn.Parameter(self._full_weight[keep].clone(), requires_grad=False)
                head, self._keep = trimmed, keep
                log.info("output layer trimmed to %d of %d tokens", len(keep), self._full_weight.shape[0])
            if self.settings.generator_quantize == "int8":
                model.model, head = _quantize(model.model, head)
            self._tok, self._model, self._head, self._ref = tok, model, head, ref
            self._chat = bool(getattr(tok, "chat_template", None))
            log.info("generator %s loaded in %.1f s (chat template: %s)", ref.name, time.perf_counter() - t0, self._chat)

    def render(self, prompt: Prompt) -> str:
        """The exact text fed to the model (chat template for instruction-tuned models)."""
        self.load()
        if self._chat:
            text = self._tok.apply_chat_template(prompt.messages(), tokenize=False, add_generation_prompt=True)
            return str(text) + prompt.prefix
        return prompt.as_text()

    # ------------------------------------------------------------------ generation
    def stream(self, prompt: Prompt, params: GenerationParams) -> Iterator[str]:
        import torch
        from transformers import DynamicCache

        self.load()
        tok, model = self._tok, self._model
        text = self.render(prompt)
        ids: list[int] = tok(text, add_special_tokens=not self._chat).input_ids
        limit = self.settings.max_prompt_tokens
        if len(ids) > limit:  # keep the start (instructions, sources) and the end (the question)
            ids = ids[: limit // 2] + ids[-(limit - limit // 2) :]
        eos = _eos_ids(tok, model)
        sliding = int(getattr(model.config, "sliding_window", 0) or 0)
        lookup = self.settings.generator_lookup if params.temperature == 0 else 0
        gen = torch.Generator().manual_seed(params.seed)
        stats = {"prompt_tokens": float(len(ids)), "forward_passes": 0.0, "accepted_drafts": 0.0}
        self.last_stats = stats
        out: list[int] = []
        printed = ""
        keep, extra_w = self._keep, None
        special = {int(t) for t in tok.all_special_ids}
        if keep is not None:  # trimmed vocabulary + every token of this prompt (names, codes it may copy)
            extra = sorted(set(ids) - set(keep.tolist()) - special)
            keep = torch.cat([keep, torch.tensor(extra, dtype=torch.long)])
            extra_w = self._full_weight[torch.tensor(extra, dtype=torch.long)].float() if extra else None
        bias_cols = None  # logit columns of the tokens to copy (GenerationParams.copy_bias)
        if params.copy_bias and params.copy_source:
            copy = set(tok(params.copy_source, add_special_tokens=False).input_ids) - special
            cols = [i for i, t in enumerate(keep.tolist()) if t in copy] if keep is not None else sorted(copy)
            bias_cols = torch.tensor(cols, dtype=torch.long)
        with torch.inference_mode():
            cache = DynamicCache(config=model.config)
            pending = list(ids)
            while len(out) < params.max_new_tokens:
                draft = _lookup(ids + out, lookup) if lookup and out else []
                if sliding and len(ids) + len(out) + len(draft) >= sliding - 1:
                    draft = []
                x = torch.tensor([pending + draft])
                hidden = model.model(input_ids=x, cache=cache, use_cache=True).last_hidden_state
                stats["forward_passes"] += 1
                rows = hidden[0, -(len(draft) + 1) :]
                logits = self._head(rows).float()
                if extra_w is not None:
                    logits = torch.cat([logits, rows.float() @ extra_w.T], dim=-1)
                if bias_cols is not None:
                    logits[:, bias_cols] += params.copy_bias
                if params.temperature > 0:
                    nxt = [_sample(logits[-1], params, gen)]
                    if keep is not None:
                        nxt = [int(keep[nxt[0]])]
                else:
                    preds = logits.argmax(-1).tolist()
                    if keep is not None:
                        preds = keep[logits.argmax(-1)].tolist()
                    nxt = []
                    for i, d in enumerate(draft):
                        if preds[i] != d:
                            break
                        nxt.append(d)
                    stats["accepted_drafts"] += len(nxt)
                    nxt.append(preds[len(nxt)])
                    rejected = len(draft) - (len(nxt) - 1)
                    if rejected:
                        cache.crop(-rejected)
                stop = False
                for t in nxt:
                    if t in eos:
                        stop = True
                        break
                    out.append(t)
                    if len(out) >= params.max_new_tokens:
                        break
                # the last emitted token has not been fed to the model yet
                pending = [out[-1]] if out else []
                decoded = tok.decode(out, skip_special_tokens=True)
                if decoded.endswith("\ufffd") and not stop and pending:  # incomplete multi-byte character
                    continue
                if len(decoded) > len(printed):
                    piece = decoded[len(printed) :]
                    printed = decoded
                    stats["new_tokens"] = float(len(out))
                    yield piece
                if stop or not pending:
                    break
        stats["new_tokens"] = float(len(out))


def _merge_adapter(model: Any, path: Path) -> Any:
    """Merge a LoRA adapter (``python -m copilot.tune``) into the base model's weights."""
    if not (path / "adapter_config.json").is_file():
        from copilot.errors import ModelNotFound

        raise ModelNotFound(f"no LoRA adapter at '{path}' (adapter_config.json missing); train one with `python -m copilot.tune`")
    try:
        from peft import PeftModel
    except ImportError as e:
        raise MissingDependency("loading a tuned adapter needs `pip install peft` (see requirements.txt)") from e
    return PeftModel.from_pretrained(model, str(path)).merge_and_unload()


def _quantize(body: Any, head: Any) -> tuple[Any, Any]:
    """Dynamic int8 (per-channel weights) for every linear layer; falls back to float if unavailable."""
    import torch

    try:
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic
    except ImportError:  # pragma: no cover - future torch without torch.ao eager quantisation
        log.warning("int8 quantisation unavailable in this torch; running in float")
        return body, head
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qbody = quantize_dynamic(body, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
        lin = torch.nn.Linear(head.in_features, head.out_features, bias=False)
        lin.weight = torch.nn.Parameter(head.weight.detach().clone(), requires_grad=False)
        qhead = quantize_dynamic(torch.nn.Sequential(lin), {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
    return qbody, qhead


def _kept_vocabulary(tok: Any, models_dir: Path) -> set[int]:
    """Token ids the five languages use: every token of the tuning data, the bundled KB and the fixed wording,
    plus special, byte-fallback, digit and punctuation tokens. Cached per tokenizer under ``models/cache``.

    A prompt's own tokens are added at generation time, so names and codes from a message or a new KB
    article can still be copied.
    """
    import hashlib
    import json

    from copilot.config import PROJECT_DIR

    texts: list[Path] = sorted((PROJECT_DIR / "models" / "tuning").rglob("*.jsonl"))
    texts += sorted((PROJECT_DIR / "models" / "tuning").rglob("*.tsv"))
    texts += sorted(p for p in (PROJECT_DIR / "knowledge_base").rglob("*") if p.suffix in (".md", ".csv", ".jsonl", ".txt"))
    texts.append(PROJECT_DIR / "copilot" / "templates.py")
    digest = hashlib.sha256(str(len(tok)).encode())
    for p in texts:
        digest.update(p.read_bytes())
    cache = models_dir / "cache" / f"vocab-{digest.hexdigest()[:16]}.json"
    if cache.is_file():
        return set(json.loads(cache.read_text()))
    keep: set[int] = set(int(t) for t in tok.all_special_ids)
    for p in texts:
        for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
            keep.update(tok(line, add_special_tokens=False).input_ids)
            keep.update(tok(line.lower(), add_special_tokens=False).input_ids)
    vocab = tok.get_vocab()
    for piece, i in vocab.items():
        core = piece.replace("\u2581", "")
        single = len(core) == 1 and (ord(core) < 0x250 or 0x600 <= ord(core) <= 0x6FF or 0x2000 <= ord(core) <= 0x206F)
        if (piece.startswith("<0x") and piece.endswith(">")) or not core or single or core.isdigit():
            keep.add(int(i))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(sorted(keep)))
    return keep


def _eos_ids(tok: Any, model: Any) -> set[int]:
    ids: set[int] = set()
    for src in (getattr(model.generation_config, "eos_token_id", None), tok.eos_token_id):
        if isinstance(src, int):
            ids.add(src)
        elif isinstance(src, (list, tuple)):
            ids.update(int(i) for i in src)
    for special in ("<end_of_turn>", "<|im_end|>", "<|eot_id|>"):
        tid = tok.convert_tokens_to_ids(special) if special in tok.get_vocab() else None
        if isinstance(tid, int):
            ids.add(tid)
    return ids


def _lookup(seq: list[int], k: int, max_ngram: int = 3, min_ngram: int = 2) -> list[int]:
    """Prompt-lookup draft: the tokens that followed the latest earlier occurrence of the last n-gram."""
    n_total = len(seq)
    for n in range(max_ngram, min_ngram - 1, -1):
        if n_total <= n:
            continue
        tail = seq[-n:]
        for start in range(n_total - n - 1, -1, -1):
            if seq[start : start + n] == tail:
                follow = seq[start + n : start + n + k]
                if follow:
                    return follow
                break
    return []


def _sample(logits: Any, params: GenerationParams, gen: Any) -> int:
    import torch

    probs = torch.softmax(logits / params.temperature, dim=-1)
    if params.top_p < 1.0:
        sorted_p, order = torch.sort(probs, descending=True)
        keep = torch.cumsum(sorted_p, 0) - sorted_p < params.top_p
        sorted_p = sorted_p * keep
        choice = torch.multinomial(sorted_p / sorted_p.sum(), 1, generator=gen)
        return int(order[choice].item())
    return int(torch.multinomial(probs, 1, generator=gen).item())
