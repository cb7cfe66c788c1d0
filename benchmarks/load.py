"""Load: 20 concurrent agents through the panel's API (gradio_client -> a real `copilot serve`).

Each agent sends a different message (6 language codes, from benchmarks/data/replies_sample_kb.jsonl). First every
message is drafted once, one at a time (the reference); then all 20 at once. Reported: latency p50/p95/max for the
concurrent round, throughput, and cross-talk (a concurrent draft that differs from its reference: another
agent's text, citation or language). Model calls are queued in the server (one generation at a time on 2 cores).

    python -m benchmarks.load --generators transformers,none --agents 20
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks._common import ROOT, percentile, save, start_serve, table


def serve(generator: str, index: Path, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "COPILOT_MODELS_DIR": str(ROOT / "models"),
        "COPILOT_DATABASE_URL": f"sqlite:///{work / f'fb-{generator}.db'}",
    }
    return start_serve(["--index", str(index), "--generator", generator], env, subprocess.DEVNULL, 300)


def key(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r["language"], r["reply"], tuple(c["article_id"] for c in r["citations"]), r["no_match"])


def main(argv: list[str] | None = None) -> int:
    from gradio_client import Client

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--generators", default="transformers,none")
    ap.add_argument("--agents", type=int, default=20)
    args = ap.parse_args(argv)
    rows = [json.loads(x) for x in (ROOT / "benchmarks" / "data" / "replies_sample_kb.jsonl").open(encoding="utf-8")]
    by_lang: dict[str, list[str]] = {}
    for r in rows:
        if r["key"]:
            by_lang.setdefault(r["language"], []).append(r["text"])
    langs = sorted(by_lang)
    messages = [by_lang[langs[i % len(langs)]][i // len(langs)] for i in range(args.agents)]
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    index = work / "index"
    from copilot import cli

    cli.main(["index", str(ROOT / "knowledge_base"), "--index", str(index), "--no-progress"])
    report: dict[str, Any] = {}
    table_rows = []
    for gen in [g.strip() for g in args.generators.split(",") if g.strip()]:
        proc, url = serve(gen, index, work)
        try:
            client = Client(url, verbose=False)
            client.predict(messages[0], api_name="/draft_reply")  # load the model
            reference = [client.predict(m, api_name="/draft_reply") for m in messages]

            def one(i: int, url: str = url) -> tuple[float, dict[str, Any]]:
                c = Client(url, verbose=False)
                t0 = time.perf_counter()
                r = c.predict(messages[i], api_name="/draft_reply")
                return time.perf_counter() - t0, r

            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.agents) as ex:
                results = list(ex.map(one, range(args.agents)))
            wall = time.perf_counter() - t0
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        lat = [x for x, _ in results]
        crosstalk = sum(1 for (_, r), ref in zip(results, reference) if key(r) != key(ref))
        report[gen] = {
            "agents": args.agents,
            "p50_s": percentile(lat, 50),
            "p95_s": percentile(lat, 95),
            "max_s": max(lat),
            "wall_s": wall,
            "drafts_per_min": args.agents / wall * 60,
            "crosstalk": crosstalk,
            "generated": sum(r["draft_path"] == "generated" for _, r in results),
        }
        table_rows.append(
            [gen, args.agents, percentile(lat, 50), percentile(lat, 95), max(lat), args.agents / wall * 60, crosstalk]
        )
    print(table(["generator", "concurrent agents", "p50 s", "p95 s", "max s", "drafts/min", "cross-talk"], table_rows))
    print(f"\nsaved {save('load', report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
