"""Task-tune the embedded generator with LoRA on the project's tuning data (``python -m copilot.tune``).

Examples are rendered with the runtime's own prompt builders (one source of truth): replies through
``copilot.reply.build_prompt`` (+ the greeting prefix), summaries through the prompt of
``copilot.summarize.generated_summary``, rewrites and translations (of drafts, and of the parallel customer
messages) through ``copilot.rewrite``'s prompts. The loss covers the
answer tokens only, and the output layer (262k-token vocabulary, most of the cost) is computed only at
those positions. Seeded; checkpoints every ``--save-every`` steps and resumes from the last one; progress
and loss on stderr; uses a GPU when one is present. Examples whose id ends in 0 are held back.

    python -m copilot.tune --epochs 3 --out models/adapters/copilot-lora
    python -m copilot.tune --resume                      # after an interruption
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from copilot.config import PROJECT_DIR, Settings

DATA = PROJECT_DIR / "models" / "tuning"
#: Read-only shared datasets; only sets whose licence allows tuning a shipped model are used (XQuAD, CC BY-SA 4.0).
SHARED_DATA = PROJECT_DIR.parent / "shared" / "data"
#: XQuAD paragraphs used for tuning; paragraphs 0-39 are the evaluation set of ``benchmarks/replies.py`` and
#: ``benchmarks/model.py``, so tuning takes 60-119 only.
XQUAD_TUNE_PIDS = range(60, 120)
#: What the tuned model answers when the passage does not answer (the wording of the project's tuning data).
NO_ANSWER = {
    "ar": "للأسف لا تتوفر لدي هذه المعلومة في مركز المساعدة لدينا؛ سأتحقق من الأمر لدى المصلحة المعنية وأعود إليك.",
    "es": "no tengo esa información en nuestro centro de ayuda; lo consulto con el servicio correspondiente y vuelvo a contactarle.",
    "en": "unfortunately, I don't have this information in our help centre; I'll check with the relevant team and get back to you.",
}


@dataclass(frozen=True)
class Example:
    id: str
    kind: str
    prompt: str
    target: str


def held_back(example_id: str) -> bool:
    digits = "".join(c for c in example_id if c.isdigit())
    return bool(digits) and digits[-1] == "0"


def _reply_example(row: dict[str, Any]) -> Example:
    from copilot.reply import build_prompt

    src = [(s["title"], s["text"]) for s in row["sources"]]
    p = build_prompt(row["reply_language"], src, row["message"], row.get("context", ""), shots=0)
    return Example(row["id"], "reply", p.as_text(), row["answer"].strip() + "\n")


def _summary_example(row: dict[str, Any]) -> Example:
    from copilot.summarize import WORDS, summary_prompt

    turns = [(t["speaker"], t["text"]) for t in row["turns"]]
    p = summary_prompt(turns, row["summary_language"])
    w = WORDS[
        "ar"
        if row["summary_language"] in ("ar", "ary")
        else row["summary_language"]
        if row["summary_language"] in WORDS
        else "en"
    ]
    summary = row["summary"].strip()
    if summary.startswith(w["customer"]):
        summary = summary[len(w["customer"]) :].lstrip()
    return Example(row["id"], "summary", p.as_text(), summary + "\n\n")


def _rewrite_example(row: dict[str, Any]) -> Example:
    from copilot.rewrite import rewrite_prompt, translate_prompt

    if row["task"] == "translate":
        p = translate_prompt(row["input"], row["target_language"])
    else:
        p = rewrite_prompt(row["input"], row["task"], row["language"])
    return Example(row["id"], "rewrite", p.as_text(), " " + row["output"].strip() + "\n\n\n")


def _window(sentences: list[str], i: int, max_chars: int = 480) -> list[str]:
    """The answer sentence and its neighbours (what the runtime's 3-sentence pick looks like), within max_chars."""
    lo, hi = i, i + 1
    for j in (i - 1, i + 1, i - 2, i + 2):
        if 0 <= j < len(sentences) and len(" ".join(sentences[min(lo, j) : max(hi, j + 1)])) <= max_chars:
            lo, hi = min(lo, j), max(hi, j + 1)
        if hi - lo >= 3:
            break
    return sentences[lo:hi]


def xquad_examples(shared: Path = SHARED_DATA, per_paragraph: int = 2, seed: int = 7) -> list[Example]:
    """Grounded-answer examples from XQuAD (ar/es/en, tune ok) paragraphs 60-119, rendered like replies.

    The source is the answer sentence with its neighbours; the answer copies the answer sentence and cites
    ``[1]``. One question in six is paired with another paragraph of the same article that lacks the answer,
    and gets the "not in our help centre" answer. Returns ``[]`` when the shared data is absent.
    """
    from copilot.reply import build_prompt, split_sentences

    folder = shared / "xquad"
    if not (folder / "questions.jsonl").is_file():
        return []
    paras = {}
    for line in (folder / "paragraphs.jsonl").open(encoding="utf-8"):
        p = json.loads(line)
        if p["pid"] in XQUAD_TUNE_PIDS:
            paras[(p["pid"], p["lang"])] = p
    by_title: dict[tuple[str, str], list[int]] = {}
    for (pid, lang), p in paras.items():
        by_title.setdefault((p["title"], lang), []).append(pid)
    rng = random.Random(seed)
    taken: dict[tuple[int, str], int] = {}
    out: list[Example] = []
    for line in (folder / "questions.jsonl").open(encoding="utf-8"):
        q = json.loads(line)
        key = (q["pid"], q["lang"])
        if key not in paras or not q["answers"] or taken.get(key, 0) >= per_paragraph:
            continue
        p = paras[key]
        sentences = split_sentences(p["context"])
        hit = next((i for i, s in enumerate(sentences) if q["answers"][0] in s), None)
        if hit is None or len(sentences[hit]) > 400:
            continue
        taken[key] = taken.get(key, 0) + 1
        title = p["title"].replace("_", " ")
        others = [o for o in by_title.get((p["title"], q["lang"]), []) if o != q["pid"]]
        if others and rng.random() < 1 / 6:
            other = split_sentences(paras[(rng.choice(others), q["lang"])]["context"])
            window = [s for s in other if not any(a in s for a in q["answers"])][:3]
            if window:
                prompt = build_prompt(q["lang"], [(title, " ".join(window))], q["question"], shots=0)
                out.append(Example(f"xq-{q['qid']}", "reply", prompt.as_text(), NO_ANSWER[q["lang"]] + "\n"))
                continue
        window = _window(sentences, hit)
        answer = sentences[hit].rstrip(" .。۔") + " [1]."
        prompt = build_prompt(q["lang"], [(title, " ".join(window))], q["question"], shots=0)
        out.append(Example(f"xq-{q['qid']}", "reply", prompt.as_text(), answer + "\n"))
    return out


#: Columns of ``parallel/*.tsv`` and the language each is written in.
PARALLEL_FORMS = {"darija": "ary", "arabizi": "ary-Latn", "msa": "ar", "fr": "fr", "en": "en", "es": "es"}
#: Translation targets of the parallel examples (the summary languages; Darija is never a target).
PARALLEL_TARGETS = {"msa": "ar", "fr": "fr", "en": "en", "es": "es"}


def parallel_examples(data_dir: Path = DATA, seed: int = 7) -> list[Example]:
    """Translations of customer messages from ``parallel/*.tsv``, rendered with the runtime's translation prompt.

    Two per row, seeded: one from Darija (Arabizi on even lines of the file, Arabic script on odd ones) into French, English or Arabic,
    and one between MSA, French, English and Spanish. This is what a summary in another language than the
    conversation's needs (``copilot.summarize``'s translated quotes). Ids are ``tr1-<row>`` / ``tr2-<row>``, so a
    row's last digit holds both back together. Rows with an empty form are skipped.
    """
    from copilot.rewrite import translate_prompt

    rng = random.Random(seed)
    out: list[Example] = []
    for n, row in parallel_rows(data_dir):
        darija = "darija" if n % 2 else "arabizi"
        pairs = [(darija, rng.choice(["fr", "en", "msa"]))]
        src = rng.choice(list(PARALLEL_TARGETS))
        pairs.append((src, rng.choice([t for t in PARALLEL_TARGETS if t != src])))
        for k, (src, tgt) in enumerate(pairs, 1):
            p = translate_prompt(row[src].strip(), PARALLEL_TARGETS[tgt])
            out.append(Example(f"tr{k}-{row['id']}", "translate", p.as_text(), " " + row[tgt].strip() + "\n\n\n"))
    return out


def parallel_rows(data_dir: Path = DATA) -> list[tuple[int, dict[str, str]]]:
    """(line number in its file, row) of ``parallel/*.tsv``; malformed rows (a missing column or an empty form) are
    reported and skipped."""
    out: list[tuple[int, dict[str, str]]] = []
    for f in sorted((data_dir / "parallel").glob("*.tsv")):
        lines = f.read_text(encoding="utf-8").splitlines()
        head = lines[0].split("\t") if lines else []
        for n, line in enumerate(lines[1:], 2):
            cells = line.split("\t")
            row = dict(zip(head, cells))
            if len(cells) != len(head) or not all(row.get(k, "").strip() for k in ("id", *PARALLEL_FORMS)):
                print(f"warning: {f.name}:{n} skipped (malformed row)", file=sys.stderr)
                continue
            out.append((n, row))
    return out


def load_examples(data_dir: Path = DATA, translations: bool = False) -> list[Example]:
    """All tuning examples, rendered; malformed lines are reported and skipped. ``translations`` adds
    :func:`parallel_examples` (not in the shipped adapter's run; see the data card)."""
    makers = {"replies": _reply_example, "summaries": _summary_example, "rewrites": _rewrite_example}
    out: list[Example] = []
    for folder, make in makers.items():
        for f in sorted((data_dir / folder).glob("*.jsonl")):
            for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    out.append(make(json.loads(line)))
                except (KeyError, TypeError, ValueError) as e:
                    print(f"warning: {f.name}:{n} skipped ({e})", file=sys.stderr)
    return out + (parallel_examples(data_dir) if translations else [])


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    train = [e for e in examples if not held_back(e.id)]
    held = [e for e in examples if held_back(e.id)]
    return train, held


def _batches(items: list[Any], size: int, rng: random.Random) -> Iterator[list[Any]]:
    """Seeded batches of similar length (less padding), in random order."""
    order = list(range(len(items)))
    rng.shuffle(order)
    pool = size * 16  # sort within pools of 16 batches: random enough, little padding
    batches = []
    for i in range(0, len(order), pool):
        chunk = sorted(order[i : i + pool], key=lambda j: len(items[j][0]))
        batches += [chunk[k : k + size] for k in range(0, len(chunk), size)]
    rng.shuffle(batches)
    for b in batches:
        yield [items[j] for j in b]


def _kinds(items: list[Example]) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for e in items:
        k = "xquad" if e.id.startswith("xq-") else e.kind
        kinds[k] = kinds.get(k, 0) + 1
    return kinds


def _examples(args: argparse.Namespace) -> tuple[list[Example], list[Example]]:
    """(train, held back) rendered examples, as ``args`` ask."""
    examples = load_examples(Path(args.data), translations=args.translations)
    extra = [] if args.no_shared else xquad_examples(Path(args.shared_data))
    if not args.no_shared:
        print(f"{len(extra)} XQuAD examples (tune ok) from {args.shared_data}", file=sys.stderr)
    train_set, held = split(examples + extra)
    if args.limit:
        train_set = train_set[: args.limit]
    return train_set, held


@dataclass
class _Encoded:
    """A run's tokenized examples (from the project data or from a pack) and what the model card says of them."""

    train: list[tuple[list[int], int]]
    held: list[tuple[list[int], int]]
    kinds: dict[str, int]
    n_train: int
    n_held: int


def _encoded(args: argparse.Namespace, tok: Any) -> _Encoded:
    """Render and tokenize the examples ``args`` ask for (held-back: the first ``--eval-examples``)."""
    train_set, held = _examples(args)
    return _Encoded(
        _encode(tok, train_set, args.max_len),
        _encode(tok, held[: args.eval_examples], args.max_len),
        _kinds(train_set),
        len(train_set),
        len(held),
    )


def _encode(tok: Any, items: list[Example], max_len: int) -> list[tuple[list[int], int]]:
    """(prompt + answer token ids, answer length) per example; long prompts lose their start."""
    rows = []
    for e in items:
        p_ids = tok(e.prompt, add_special_tokens=True).input_ids
        t_ids = tok(e.target, add_special_tokens=False).input_ids
        ids = (p_ids + t_ids)[-max_len:]
        rows.append((ids, min(len(t_ids), len(ids) - 1)))
    return rows


def _kept(tok: Any, settings: Settings, rows: list[tuple[list[int], int]]) -> list[int]:
    """The trimmed output vocabulary of a tuning run: the runtime's kept tokens, every token of the examples and
    the special tokens 0-3 (pad, eos, bos, unk keep their ids)."""
    from copilot.generators.hf import _kept_vocabulary

    return sorted(_kept_vocabulary(tok, settings.models_dir) | {i for ids, _ in rows for i in ids} | {0, 1, 2, 3})


def write_pack(args: argparse.Namespace) -> int:
    """Write a self-contained training pack (``--pack DIR``): the rendered, tokenized examples and the base weights
    with the output layer trimmed to the kept tokens (the ``--vocab trimmed`` run, exactly). A machine with torch,
    transformers and peft but without the model packages, the tokenizer or this project's data (a GPU server in a
    closed network) then trains with ``--from-pack DIR``; the adapter it writes loads on the full model."""
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import AutoTokenizer

    from copilot.models import resolve_model

    settings = Settings.from_env(model=args.model)
    ref = resolve_model(settings, "hf")
    tok = AutoTokenizer.from_pretrained(str(ref.path))
    enc = _encoded(args, tok)
    kept = _kept(tok, settings, enc.train + enc.held)
    index = {t: n for n, t in enumerate(kept)}
    weights = load_file(str(ref.path / "model.safetensors"))
    emb = weights.pop("lm_head.weight", None)
    emb = weights.pop("model.embed_tokens.weight", emb)
    assert emb is not None, "no embedding matrix in the model"
    weights["model.embed_tokens.weight"] = emb[torch.tensor(kept)].contiguous()
    config = json.loads((ref.path / "config.json").read_text(encoding="utf-8"))
    config.update(
        vocab_size=len(kept), pad_token_id=index[0], eos_token_id=index[1], bos_token_id=index[2], unk_token_id=index[3]
    )
    out = Path(args.pack)
    out.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(out / "weights.safetensors"))
    (out / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")

    def remapped(rows: list[tuple[list[int], int]]) -> list[list[Any]]:
        return [[[index[i] for i in ids], n] for ids, n in rows]

    meta = {
        "kept_tokens": len(kept),
        "train": remapped(enc.train),
        "held": remapped(enc.held),
        "train_by_kind": enc.kinds,
        "train_examples": enc.n_train,
        "held_back_examples": enc.n_held,
        "rendered_with": {
            k: v for k, v in vars(args).items() if k in ("data", "shared_data", "no_shared", "max_len", "limit", "translations")
        },
    }
    (out / "examples.json").write_text(json.dumps(meta), encoding="utf-8")
    print(f"pack written to {out}: {enc.n_train} training examples, {len(kept)} kept tokens", file=sys.stderr)
    return 0


def train(args: argparse.Namespace) -> int:
    import torch
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from copilot.models import resolve_model

    settings = Settings.from_env(model=args.model)
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(settings.threads)
    print(f"training on {device}", file=sys.stderr)
    pack = Path(args.from_pack) if args.from_pack else None
    if pack is not None:  # a pack from --pack: vocabulary already trimmed, examples already tokenized
        meta = json.loads((pack / "examples.json").read_text(encoding="utf-8"))
        config = AutoConfig.from_pretrained(str(pack))
        base: Any = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
        state = load_file(str(pack / "weights.safetensors"))
        missing, unexpected = base.load_state_dict(state, strict=False)
        if unexpected or any(k != "lm_head.weight" for k in missing):
            print(f"Error: the pack does not fit its config ({(missing + unexpected)[:3]})", file=sys.stderr)
            return 1
        base.tie_weights()
        enc = _Encoded(
            [(list(ids), int(n)) for ids, n in meta["train"]],
            [(list(ids), int(n)) for ids, n in meta["held"]],
            meta["train_by_kind"],
            int(meta["train_examples"]),
            int(meta["held_back_examples"]),
        )
        args.vocab = "trimmed"
        for k, v in meta["rendered_with"].items():
            setattr(args, k, v)
    else:
        ref = resolve_model(settings, "hf")
        tok = AutoTokenizer.from_pretrained(str(ref.path))
        base = AutoModelForCausalLM.from_pretrained(str(ref.path), dtype=torch.bfloat16)
        enc = _encoded(args, tok)
    encoded, held_enc = enc.train, enc.held
    if not encoded:
        print("Error: no tuning examples found under " + args.data, file=sys.stderr)
        return 1
    model = base.to(device)
    torch.manual_seed(args.seed)  # the adapter's initialisation and dropout do not depend on how the base was built
    cfg = LoraConfig(
        r=args.rank,
        lora_alpha=2 * args.rank,
        lora_dropout=0.05,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    )
    model = get_peft_model(model, cfg)
    out = Path(args.out)
    ckpt = out / "checkpoint"
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.0)
    steps_per_epoch = math.ceil(len(encoded) / args.batch)
    total = steps_per_epoch * args.epochs
    step = 0
    history: list[dict[str, float]] = []
    if args.resume and (ckpt / "state.json").is_file():
        state = json.loads((ckpt / "state.json").read_text())
        set_peft_model_state_dict(model, load_file(str(ckpt / "adapter.safetensors")))
        opt.load_state_dict(torch.load(ckpt / "optimizer.pt", map_location=device, weights_only=True))
        if (ckpt / "rng.pt").is_file():  # dropout masks continue exactly where the interrupted run stopped
            torch.set_rng_state(torch.load(ckpt / "rng.pt", weights_only=True))
        step = int(state["step"])
        history = list(state.get("history", []))
        print(f"resumed at step {step}/{total}", file=sys.stderr)
    head: Any = model.get_output_embeddings()
    remap = None
    if args.vocab == "trimmed" and pack is None:  # output layer over the kept tokens only (measured in the README)
        kept = _kept(tok, settings, encoded + held_enc)
        remap = torch.full((head.weight.shape[0],), -100, dtype=torch.long, device=device)
        remap[torch.tensor(kept, device=device)] = torch.arange(len(kept), device=device)
        trimmed_w = head.weight.detach()[torch.tensor(kept, device=device)]
        head = lambda h: h @ trimmed_w.T  # noqa: E731  # frozen (tied to the embeddings, LoRA leaves it alone)
    body: Any = model.get_base_model().model

    def batch_loss(batch: list[tuple[list[int], int]]) -> tuple[Any, int]:
        width = max(len(ids) for ids, _ in batch)
        x = torch.zeros(len(batch), width, dtype=torch.long)
        mask = torch.zeros(len(batch), width, dtype=torch.long)
        for i, (ids, _) in enumerate(batch):
            x[i, : len(ids)] = torch.tensor(ids)
            mask[i, : len(ids)] = 1
        x, mask = x.to(device), mask.to(device)
        with torch.autocast(device_type=device, dtype=torch.bfloat16):
            hidden = body(input_ids=x, attention_mask=mask).last_hidden_state
            rows, labels = [], []
            for i, (ids, n_t) in enumerate(batch):
                start = len(ids) - n_t - 1
                rows.append(hidden[i, start : len(ids) - 1])
                labels.append(x[i, start + 1 : len(ids)])
            logits = head(torch.cat(rows)).float()
            target = torch.cat(labels) if remap is None else remap[torch.cat(labels)]
            loss = torch.nn.functional.cross_entropy(logits, target)
        return loss, int(mask.sum())

    def held_loss() -> float:
        if not held_enc:
            return float("nan")
        model.eval()
        total_loss = 0.0
        with torch.no_grad():
            for i in range(0, len(held_enc), args.batch):
                part = held_enc[i : i + args.batch]
                total_loss += float(batch_loss(part)[0]) * len(part)
        model.train()
        return total_loss / len(held_enc)

    model.train()
    start_step = step
    t0 = time.perf_counter()
    args.trained_on = torch.cuda.get_device_name() + " (CUDA)" if device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    done_tokens = 0
    for epoch in range(args.epochs):
        for b, batch in enumerate(_batches(encoded, args.batch, random.Random(args.seed + epoch))):
            if epoch * steps_per_epoch + b < step:
                continue  # done before the interruption (batches are seeded per epoch, so this is exact)
            if step >= total or (args.max_steps and step >= start_step + args.max_steps):
                break
            loss, n_tokens = batch_loss(batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            lr = args.lr * min(1.0, (step + 1) / max(1, args.warmup)) * 0.5 * (1 + math.cos(math.pi * step / max(1, total)))
            for g in opt.param_groups:
                g["lr"] = lr
            opt.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            done_tokens += n_tokens
            if step % args.log_every == 0 or step == total:
                rate = done_tokens / (time.perf_counter() - t0)
                print(
                    f"step {step}/{total} epoch {epoch + 1} loss {loss.item():.4f} lr {lr:.2e} {rate:.0f} tok/s",
                    file=sys.stderr,
                    flush=True,
                )
            if step % steps_per_epoch == 0 or step == total:
                h = held_loss()
                history.append(
                    {"step": step, "epoch": epoch + 1, "train_loss": round(loss.item(), 4), "held_back_loss": round(h, 4)}
                )
                print(f"epoch {epoch + 1} done: held-back loss {h:.4f} ({len(held_enc)} examples)", file=sys.stderr, flush=True)
            if step % args.save_every == 0:
                _save_checkpoint(model, opt, ckpt, step, history)
    if step < total:  # --max-steps: a session's share of the run; the next one continues with --resume
        _save_checkpoint(model, opt, ckpt, step, history)
        print(f"stopped at step {step}/{total}; continue with --resume", file=sys.stderr)
        return 0
    args.minutes = round((time.perf_counter() - t0) / 60, 1)  # this part of the run (a resumed run: since the resume)
    _save_adapter(model, out, args, enc.kinds, enc.n_train, enc.n_held, history)
    print(f"adapter and model card written to {out}", file=sys.stderr)
    return 0


def _save_checkpoint(model: Any, opt: Any, ckpt: Path, step: int, history: list[dict[str, float]]) -> None:
    import torch
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    tmp = ckpt.with_name(ckpt.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in get_peft_model_state_dict(model).items()}, str(tmp / "adapter.safetensors"))
    torch.save(opt.state_dict(), tmp / "optimizer.pt")
    torch.save(torch.get_rng_state(), tmp / "rng.pt")
    (tmp / "state.json").write_text(json.dumps({"step": step, "history": history}))
    import shutil

    shutil.rmtree(ckpt, ignore_errors=True)
    tmp.rename(ckpt)


def _save_adapter(
    model: Any,
    out: Path,
    args: argparse.Namespace,
    kinds: dict[str, int],
    n_train: int,
    n_held: int,
    history: list[dict[str, float]],
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    config = out / "adapter_config.json"  # no machine-specific path in the shipped files
    cfg = json.loads(config.read_text(encoding="utf-8"))
    cfg["base_model_name_or_path"] = args.model
    config.write_text(json.dumps(cfg, indent=2, sort_keys=True), encoding="utf-8")

    def portable(v: Any) -> Any:
        if isinstance(v, str) and v.startswith(str(PROJECT_DIR.parent)):
            return Path(os.path.relpath(v, PROJECT_DIR)).as_posix()
        return v

    meta = {
        **{k: portable(v) for k, v in vars(args).items() if k not in ("func", "max_steps", "resume", "pack", "from_pack")},
        "train_examples": n_train,
        "train_by_kind": kinds,
        "held_back_examples": n_held,
        "history": history,
    }
    (out / "training.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    # the card's metrics section is filled by ``python -m benchmarks.model --card``
    listed = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
    losses = "; ".join(f"epoch {h['epoch']}: {h['held_back_loss']}" for h in history) or "n/a"
    card = MODEL_CARD.format(**{**meta, "history": losses}, rank2=2 * args.rank, kinds=listed)
    (out / "README.md").write_text(card, encoding="utf-8")


MODEL_CARD = """# copilot-lora: the copilot's embedded drafting model (model card)

**Base model:** Gemma 3 270M (pre-trained, not instruction-tuned), from the `gemma3-270m` PyPI packages; used under the
[Gemma Terms of Use](https://ai.google.dev/gemma/terms) and its prohibited-use policy, which apply to this adapter
and to any merged copy.

**What it is:** a LoRA adapter (rank {rank}, alpha {rank2}, on q/k/v/o and the MLP projections; base frozen) that
teaches the base model the copilot's three prompt formats: grounded replies citing `[1]` (or a polite "not in our
help centre" answer), structured-summary paragraphs, and rewrites/translations of drafts. The runtime merges it into
the base weights at load (`COPILOT_ADAPTER=auto`, the default; `none` for the base model).

**Reproduce:** `python -m copilot.tune --vocab {vocab} --epochs {epochs} --batch {batch} --lr {lr} --seed {seed} --out models/adapters/copilot-lora`
(this run: {minutes} min on {trained_on}; a GPU is used when present; `--resume` continues after an
interruption, `--max-steps N` splits the run into parts; `--pack DIR` + `--from-pack DIR` move the run to a machine
without the model packages, with the same result as `--vocab trimmed` up to floating-point rounding).

**Data:** {train_examples} training examples ({kinds}); {held_back_examples} held back (ids ending in 0) and never
trained on.
- `models/tuning/` — written for this project (Apache-2.0), fictional businesses; see its data card. Not reviewed by
  native speakers of Darija.
- XQuAD (CC BY-SA 4.0, marked "tune ok"), paragraphs 60-119 in ar/es/en, read from `../shared/data` at tuning time;
  paragraphs 0-39 are kept for evaluation. Share-alike: the adapter is distributed under CC BY-SA 4.0 terms as far
  as that licence reaches it.
- No non-commercial or unlicensed set was used for training (TweetSumm, DialogSum, DODa, DarijaBanking only evaluate).

**Limits:** a 270M model. It copies the passage's wording well but can pick the wrong sentence of a passage, and its
Darija is a Darija greeting around simple MSA (Arabizi customers get French). Every generated reply goes through the
validator (citations, language, numbers, grounding); when it fails, the retrieval-first draft is shown instead. The
copilot never sends anything itself: an agent reads, edits and sends.

## Training

Held-back loss per epoch: {history}

## Metrics

Filled in by `python -m benchmarks.model --card` (base vs tuned, per language).
"""


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m copilot.tune", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default=str(DATA), help="tuning data folder (replies/, summaries/, rewrites/, parallel/)")
    ap.add_argument("--model", default="gemma-3-270m", help="base model (default: the embedded Gemma 3 270M)")
    ap.add_argument("--out", default=str(PROJECT_DIR / "models" / "adapters" / "copilot-lora"))
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--max-len", type=int, default=768)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N examples only (smoke runs)")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--save-every", type=int, default=50)
    ap.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after N steps this run (checkpointed; then --resume)")
    ap.add_argument("--dry-run", action="store_true", help="render and count the examples, train nothing")
    ap.add_argument("--shared-data", default=str(SHARED_DATA), help="shared datasets folder (XQuAD, tune ok, is read)")
    ap.add_argument("--no-shared", action="store_true", help="train on models/tuning only")
    ap.add_argument(
        "--translations",
        action="store_true",
        help="add 1,520 translations of the parallel customer messages (experimental; not in the shipped adapter)",
    )
    ap.add_argument("--vocab", choices=["full", "trimmed"], default="full", help="output layer over all tokens or the kept ones")
    ap.add_argument("--pack", default="", help="write a self-contained training pack to this folder and stop")
    ap.add_argument("--from-pack", default="", help="train from a pack written by --pack (no model package or tokenizer needed)")
    ap.add_argument("--eval-examples", type=int, default=120, help="held-back examples scored after each epoch")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.pack:
        return write_pack(args)
    if args.dry_run:
        ex = load_examples(Path(args.data)) + ([] if args.no_shared else xquad_examples(Path(args.shared_data)))
        tr, held = split(ex)
        kinds: dict[str, int] = {}
        for e in ex:
            kinds[e.kind] = kinds.get(e.kind, 0) + 1
        print(json.dumps({"examples": len(ex), "train": len(tr), "held_back": len(held), "by_kind": kinds}, indent=2))
        if ex:
            print("\n--- first rendered example ---\n" + ex[0].prompt + ex[0].target)
        return 0
    return train(args)


if __name__ == "__main__":
    raise SystemExit(main())
