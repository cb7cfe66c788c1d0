"""Translation of customer messages by the embedded model, on the held-back parallel messages (never trained on).

``copilot summarize --generator translate`` has the model translate the extractive summary's quotes, issue, actions
and next steps (``copilot.summarize.translated_summary``). This measures that skill alone on the rows of
``models/tuning/parallel`` whose id ends in 0 (held back from tuning): per row, three directions (Darija in Arabic
script and Arabizi into French / English / MSA in turn, and one between MSA, French, English and Spanish), with the
prompt and checks of ``copilot.rewrite.translate_with_generator``. Per source form: ROUGE-L against the row's own
wording in the target language, the share the checks accept (language, no new number or id, no instruction, no
citation), and the share in the target language. The checks do not see meaning: read ``benchmarks/out/
translations.json``. ``--adapter`` names another adapter folder (e.g. one tuned with ``python -m copilot.tune
--translations``; ``none``: the base model)::

    python -m benchmarks.translations --limit 40
    python -m benchmarks.translations --adapter models/adapters/copilot-lora-e1 --limit 40
"""

from __future__ import annotations

import argparse
import tempfile
from collections import defaultdict

from benchmarks._common import mean, save, table
from benchmarks.model import rouge_l
from copilot import Copilot, Settings
from copilot.lang import detect_language
from copilot.rewrite import _generate, check_rewrite, translate_prompt
from copilot.templates import ACCEPTED
from copilot.tune import DATA as TUNING
from copilot.tune import PARALLEL_FORMS, PARALLEL_TARGETS, held_back, parallel_rows

TARGETS = ("fr", "en", "msa")
OTHERS = tuple(PARALLEL_TARGETS)


def held_back_rows() -> list[dict[str, str]]:
    return [row for _, row in parallel_rows(TUNING) if held_back(row["id"])]


def directions(i: int) -> list[tuple[str, str]]:
    """The three (source form, target form) pairs measured on the i-th row."""
    n = len(OTHERS)
    return [
        ("darija", TARGETS[i % 3]),
        ("arabizi", TARGETS[(i + 1) % 3]),
        (OTHERS[i % n], OTHERS[(i + 1 + (i // n) % (n - 1)) % n]),  # every ordered pair in turn
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adapter", default="auto", help="adapter folder, auto (the shipped one) or none (base model)")
    ap.add_argument("--limit", type=int, default=0, help="first N held-back rows only (0 = all)")
    args = ap.parse_args(argv)
    rows = held_back_rows()[: args.limit or None]
    settings = Settings.from_env(progress=False, adapter=args.adapter)
    cp = Copilot(settings, index_dir=tempfile.mkdtemp(), generator="transformers")
    gen = cp.generator()
    assert gen is not None
    res: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    texts: list[dict[str, object]] = []
    for i, row in enumerate(rows):
        for src, tgt in directions(i):
            target = PARALLEL_TARGETS[tgt]
            raw = _generate(gen, translate_prompt(row[src], target), target, 120)[0]
            rejected = check_rewrite(row[src], raw, language=target, style=None, allowed=(), detect=detect_language)
            raw = " ".join(raw.split("\n\n")[0].split())
            texts.append({"id": row["id"], "from": src, "to": tgt, "output": raw, "rejected": rejected})
            for key in (PARALLEL_FORMS[src], "all"):
                res[key]["ROUGE-L"].append(rouge_l(raw, [row[tgt]]))
                res[key]["accepted"].append(float(not rejected))
                res[key]["in target language"].append(float(detect_language(raw).code in ACCEPTED.get(target, {target})))
    metrics = ("ROUGE-L", "accepted", "in target language")
    order = sorted(res, key=lambda k: (k == "all", k))
    rows_out = [[k, len(res[k]["ROUGE-L"]), *(mean(res[k][m]) for m in metrics)] for k in order]
    print(f"adapter: {settings.adapter_path() or 'none (base model)'}; {len(rows)} held-back rows")
    print(table(["source", "n", *metrics], rows_out))
    table_rows = [dict(zip(["source", "n", *metrics], r)) for r in rows_out]
    path = save("translations", {"adapter": str(settings.adapter_path()), "rows": table_rows, "texts": texts})
    print(f"saved {path} (the translations, to read by hand)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
