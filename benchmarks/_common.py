"""Shared helpers for the benchmark scripts: data paths, tables, timing."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("COPILOT_EVAL_DATA", ROOT.parent / "shared" / "data"))
OUT = ROOT / "benchmarks" / "out"


def need_data(*names: str) -> Path:
    """The evaluation data folder, or exit with a clear message if it is missing."""
    for n in names:
        if not (DATA / n).exists():
            sys.exit(f"Error: evaluation data '{DATA / n}' not found; set COPILOT_EVAL_DATA to the shared/data folder")
    return DATA


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 10 else f"{v:,.1f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


@contextmanager
def timer() -> Iterator[dict[str, float]]:
    t: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield t
    finally:
        t["s"] = time.perf_counter() - start


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, round(p / 100 * (len(v) - 1)))]


def save(name: str, data: Any) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def decode_rates(timings: Iterable[tuple[float, float, float]]) -> list[float]:
    """Tokens/s after the first token, from (new_tokens, first_token_ms, generation_ms) of each generation."""
    return [(n - 1) / ((total - first) / 1000) for n, first, total in timings if n > 1 and total > first]


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for servers started by benchmarks and tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(url: str, proc: subprocess.Popen[bytes], timeout: float, ready: Callable[[bytes], bool] | None = None) -> bool:
    """Poll ``url`` until it answers (and ``ready(body)`` holds); False if ``proc`` exits or ``timeout`` passes."""
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if ready is None or ready(r.read()):
                    return True
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            return False
        time.sleep(0.5)


def start_serve(
    args: Sequence[str], env: dict[str, str], log: IO[bytes] | int, timeout: float
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``copilot serve ARGS`` on a free port of 127.0.0.1 and wait until it answers: (process, URL).

    Raises:
        RuntimeError: The server exited or did not answer within ``timeout`` seconds (it is stopped first).
    """
    port = free_port()
    cmd = [sys.executable, "-m", "copilot", "serve", *args, "--port", str(port), "--no-progress"]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT if log != subprocess.DEVNULL else log)
    url = f"http://127.0.0.1:{port}/"
    if not wait_for_http(url, proc, timeout):
        proc.terminate()
        proc.wait(timeout=30)
        raise RuntimeError(f"copilot serve did not answer at {url} within {timeout:.0f} s")
    return proc, url
