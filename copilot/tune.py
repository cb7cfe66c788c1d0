"""Task-tune the embedded generator with LoRA on the project's tuning data (``python -m copilot.tune``).

Examples are rendered with the runtime's own prompt builders (one source of truth): replies through
``copilot.reply.build_prompt`` (+ the greeting prefix), summaries through the prompt of
``copilot.summarize.generated_summary``, rewrites through ``copilot.rewrite``'s prompt. The loss covers the
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
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from copilot.config import PROJECT_DIR, Settings

DATA = PROJECT_DIR / "models" / "tuning"


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


def load_examples(data_dir: Path = DATA) -> list[Example]:
    """All tuning examples, rendered; malformed lines are reported and skipped."""
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
    return out


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    train = [e for e in examples if not held_back(e.id)]
    held = [e for e in examples if held_back(e.id)]
    return train, held


def _batches(items: list[Any], size: int, rng: random.Random) -> Iterator[list[Any]]:
    order = list(range(len(items)))
    rng.shuffle(order)
    for i in range(0, len(order), size):
        yield [items[j] for j in order[i : i + size]]


def train(args: argparse.Namespace) -> int:
    import torch
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from copilot.models import resolve_model

    settings = Settings.from_env(model=args.model)
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(settings.threads)
    ref = resolve_model(settings, "hf")
    tok = AutoTokenizer.from_pretrained(str(ref.path))
    base: Any = AutoModelForCausalLM.from_pretrained(str(ref.path), dtype=torch.bfloat16)
    model = base.to(device)
    cfg = LoraConfig(
        r=args.rank,
        lora_alpha=2 * args.rank,
        lora_dropout=0.05,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    )
    model = get_peft_model(model, cfg)
    examples = load_examples(Path(args.data))
    train_set, held = split(examples)
    if args.limit:
        train_set = train_set[: args.limit]
    if not train_set:
        print("Error: no tuning examples found under " + args.data, file=sys.stderr)
        return 1
    encoded = []
    for e in train_set:
        p_ids = tok(e.prompt, add_special_tokens=True).input_ids
        t_ids = tok(e.target, add_special_tokens=False).input_ids
        ids = (p_ids + t_ids)[-args.max_len :]
        n_target = min(len(t_ids), len(ids) - 1)
        encoded.append((ids, n_target))
    out = Path(args.out)
    ckpt = out / "checkpoint"
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.0)
    steps_per_epoch = math.ceil(len(encoded) / args.batch)
    total = steps_per_epoch * args.epochs
    step = 0
    if args.resume and (ckpt / "state.json").is_file():
        state = json.loads((ckpt / "state.json").read_text())
        set_peft_model_state_dict(model, load_file(str(ckpt / "adapter.safetensors")))
        opt.load_state_dict(torch.load(ckpt / "optimizer.pt", map_location=device, weights_only=True))
        step = int(state["step"])
        print(f"resumed at step {step}/{total}", file=sys.stderr)
    head: Any = model.get_output_embeddings()
    body: Any = model.get_base_model().model
    model.train()
    t0 = time.perf_counter()
    done_tokens = 0
    for epoch in range(args.epochs):
        for b, batch in enumerate(_batches(encoded, args.batch, random.Random(args.seed + epoch))):
            if epoch * steps_per_epoch + b < step:
                continue  # done before the interruption (batches are seeded per epoch, so this is exact)
            if step >= total:
                break
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
                loss = torch.nn.functional.cross_entropy(logits, torch.cat(labels))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            lr = args.lr * min(1.0, (step + 1) / max(1, args.warmup)) * 0.5 * (1 + math.cos(math.pi * step / max(1, total)))
            for g in opt.param_groups:
                g["lr"] = lr
            opt.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            done_tokens += int(mask.sum())
            if step % args.log_every == 0 or step == total:
                rate = done_tokens / (time.perf_counter() - t0)
                print(
                    f"step {step}/{total} epoch {epoch + 1} loss {loss.item():.4f} lr {lr:.2e} {rate:.0f} tok/s",
                    file=sys.stderr,
                    flush=True,
                )
            if step % args.save_every == 0:
                _save_checkpoint(model, opt, ckpt, step)
    _save_adapter(model, out, args, len(train_set), len(held))
    print(f"adapter written to {out}", file=sys.stderr)
    return 0


def _save_checkpoint(model: Any, opt: Any, ckpt: Path, step: int) -> None:
    import torch
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    tmp = ckpt.with_name(ckpt.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in get_peft_model_state_dict(model).items()}, str(tmp / "adapter.safetensors"))
    torch.save(opt.state_dict(), tmp / "optimizer.pt")
    (tmp / "state.json").write_text(json.dumps({"step": step}))
    import shutil

    shutil.rmtree(ckpt, ignore_errors=True)
    tmp.rename(ckpt)


def _save_adapter(model: Any, out: Path, args: argparse.Namespace, n_train: int, n_held: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    (out / "training.json").write_text(
        json.dumps(
            {**{k: v for k, v in vars(args).items() if k != "func"}, "train_examples": n_train, "held_back_examples": n_held},
            indent=2,
        )
    )


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m copilot.tune", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default=str(DATA), help="tuning data folder (replies/, summaries/, rewrites/)")
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
    ap.add_argument("--dry-run", action="store_true", help="render and count the examples, train nothing")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.dry_run:
        ex = load_examples(Path(args.data))
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
