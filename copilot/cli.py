"""Command line: `copilot index | search` — parsing and formatting only; the work is in `Copilot`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from copilot import __version__
from copilot.config import Settings
from copilot.errors import CopilotError, InputError

if TYPE_CHECKING:
    from copilot.service import Copilot
    from copilot.types import SearchResult

EPILOG = """examples:
  copilot index knowledge_base/                      build or update the default index (models/index)
  copilot search "ma facture est trop élevée"        top articles for one message
  copilot search -k 3 --json "bghit nbdl lmot de passe"
  echo "my internet is down" | copilot search -
  copilot search --input queries.jsonl --output hits.jsonl     batch: {"id","text"} per line
"""


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", metavar="DIR", help="index folder (default: models/index or $COPILOT_INDEX_DIR)")
    p.add_argument("--embedder", metavar="SPEC", help="use | e5 | hashing | st:<model folder> (default: the index's own)")
    p.add_argument("-v", "--verbose", action="store_true", help="log ids, counts and timings on stderr")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="copilot",
        description="Local-first multilingual contact-centre copilot (French, Arabic, Darija, Spanish, English).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"copilot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "index",
        help="build or update an index from KB files",
        description="Index .md (front matter), .txt, .html, .pdf and FAQ .csv/.jsonl files. Unchanged chunks are "
        "never re-embedded; files missing from SOURCE are dropped from the index.",
        epilog="example: copilot index knowledge_base/ --index models/index",
    )
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="files or folders")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything instead of updating")
    p.add_argument("--json", action="store_true", help="print the build report as JSON")
    _add_common(p)

    p = sub.add_parser(
        "search",
        help="search the KB for a customer message",
        description="Hybrid (dense + BM25) cross-lingual search, one query or a JSONL batch.",
        epilog='examples:\n  copilot search "ma facture est trop élevée"\n  copilot search --input q.jsonl --output hits.jsonl',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("query", nargs="?", help="the message ('-' reads it from stdin)")
    p.add_argument("-k", type=int, default=None, metavar="N", help="articles to return (default 5)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--input", metavar="FILE", help='batch mode: JSONL of {"id","text"} (\'-\' = stdin)')
    p.add_argument("--output", metavar="FILE", help="batch output JSONL ('-' = stdout, the default)")
    _add_common(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 user error, 2 usage error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = Settings.from_env(progress=False if args.no_progress else None)
        copilot = _copilot(args, settings)
        if args.command == "index":
            return _cmd_index(args, copilot)
        if args.command == "search":
            return _cmd_search(args, copilot)
        parser.error(f"unknown command {args.command}")
    except CopilotError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    except ValueError as e:  # settings from the environment
        print(f"Error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return 0


def _copilot(args: argparse.Namespace, settings: Settings) -> Copilot:
    from copilot.service import Copilot

    return Copilot(settings, index_dir=args.index, embedder_spec=args.embedder)


def _cmd_index(args: argparse.Namespace, copilot: Copilot) -> int:
    report = copilot.build_index(args.sources, rebuild=args.rebuild)
    for line in report.skipped:
        print(f"warning: skipped {line}", file=sys.stderr)
    if args.json:
        from dataclasses import asdict

        print(json.dumps({"index": str(copilot.index_dir), **asdict(report)}, ensure_ascii=False))
    else:
        print(f"Indexed into {copilot.index_dir}: {report.summary()}")
    return 0


def _read_query(q: str | None) -> str:
    if q is None:
        raise InputError('give a query, e.g. `copilot search "ma facture est trop élevée"`, or --input FILE')
    if q == "-":
        data = sys.stdin.buffer.read()
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise InputError("stdin is not valid UTF-8; convert the text to UTF-8") from e
    return q


def _cmd_search(args: argparse.Namespace, copilot: Copilot) -> int:
    if args.k is not None and args.k < 1:
        raise InputError("-k must be at least 1")
    if args.input:
        return _search_batch(args, copilot)
    if args.output:
        raise InputError("--output needs --input (batch mode)")
    result = copilot.search(_read_query(args.query), args.k)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_result(result))
    return 0


def format_result(result: SearchResult) -> str:
    """Human-readable search result."""
    lang = result.language
    lines = [
        f"language: {lang.code} ({lang.name}, {lang.confidence:.2f})"
        + (f", mixed with {', '.join(lang.mixed_with)}" if lang.mixed_with else "")
    ]
    if result.no_match:
        lines.append(f"no KB article answers this confidently (confidence {result.confidence:.2f}); closest:")
    else:
        lines.append(f"match confidence {result.confidence:.2f}")
    for n, h in enumerate(result.hits, 1):
        snippet = " ".join(h.text.split())
        snippet = snippet[:160] + ("…" if len(snippet) > 160 else "")
        lines.append(f"[{n}] {h.title}  ({h.article_id}, {h.language}, score {h.score:.3f})")
        lines.append(f"    {snippet}")
    return "\n".join(lines)


@contextmanager
def _open_out(path: str | None) -> Iterator[IO[str]]:
    if path in (None, "-"):
        yield sys.stdout
        return
    assert path is not None
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        yield f


def _iter_jsonl(path: str) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, row or None, error) for each non-blank line."""
    if path == "-":
        stream: IO[bytes] = sys.stdin.buffer
    else:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"cannot read '{path}': no such file")
        stream = p.open("rb")
    try:
        for n, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8-sig"))
            except UnicodeDecodeError:
                yield n, None, "line is not valid UTF-8"
                continue
            except json.JSONDecodeError as e:
                yield n, None, f"invalid JSON ({e.msg})"
                continue
            if not isinstance(row, dict):
                yield n, None, "line is not a JSON object"
                continue
            yield n, row, ""
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _search_batch(args: argparse.Namespace, copilot: Copilot, batch_size: int = 256) -> int:
    pending: list[tuple[str, str]] = []
    counts = {"ok": 0, "error": 0}

    def flush(out: IO[str]) -> None:
        if not pending:
            return
        results = copilot.search_many([t for _, t in pending], args.k)
        for (rid, _), r in zip(pending, results):
            out.write(json.dumps({"id": rid, **_contract(r)}, ensure_ascii=False) + "\n")
        counts["ok"] += len(pending)
        pending.clear()
        out.flush()

    copilot.retriever()  # fail early (missing index, wrong embedder) before reading input
    with _open_out(args.output) as out:
        for n, row, err in _iter_jsonl(args.input):
            rid = str(row.get("id", n)) if row is not None else str(n)
            text = row.get("text") if row is not None else None
            if row is not None and (not isinstance(text, str) or not text.strip()):
                err = "missing or empty 'text'"
            elif row is not None and len(text) > copilot.settings.max_query_chars:  # type: ignore[arg-type]
                err = f"'text' longer than {copilot.settings.max_query_chars} characters"
            if err:
                flush(out)
                out.write(json.dumps({"id": rid, "error": f"line {n}: {err}"}, ensure_ascii=False) + "\n")
                counts["error"] += 1
                continue
            pending.append((rid, text))  # type: ignore[arg-type]
            if len(pending) >= batch_size:
                flush(out)
        flush(out)
    print(f"searched {counts['ok']} queries, {counts['error']} errors", file=sys.stderr)
    return 0


def _contract(r: SearchResult) -> dict[str, Any]:
    d = r.to_dict()
    d["hits"] = [{k: h[k] for k in ("article_id", "title", "score", "language", "chunk_id", "text", "url")} for h in d["hits"]]
    return d


def main_exit() -> None:
    """Console-script entry point."""
    sys.exit(main())
