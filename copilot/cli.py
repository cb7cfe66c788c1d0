"""Command line: `copilot index | search` — parsing and formatting only; the work is in `Copilot`."""

from __future__ import annotations

import argparse
import json
import logging
import os
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
  copilot reply "Bonjour, combien coûte la livraison ?"         a cited draft, streamed
  copilot reply --input messages.jsonl --output drafts.jsonl   batch; rerun to resume after a crash
  copilot rewrite --style shorter "Bonjour, ... [1]"            rewrite or translate a draft
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

    p = sub.add_parser(
        "reply",
        help="draft a cited reply in the customer's language",
        description="Detect the language, retrieve, generate a grounded draft with [n] citations and validate it; "
        "falls back to the retrieval-first (extractive) draft when the generated text fails a check, and to a "
        "holding reply when the KB has no answer. Drafts are for an agent to review, never sent automatically.",
        epilog='examples:\n  copilot reply "wach kayn livraison l Tanger?"\n'
        '  copilot reply --generator none "¿Cuánto cuesta el envío?"\n'
        "  copilot reply --input messages.jsonl --output drafts.jsonl\n\n"
        'batch rows: {"id","text"} or {"id","turns":[{"speaker":"customer"|"agent","text"}]}; output rows follow the '
        "contract in the README; rows already in OUT are skipped (resume), --overwrite starts over.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("message", nargs="?", help="the customer's message ('-' reads it from stdin)")
    p.add_argument("--input", metavar="FILE", help="batch mode: JSONL of messages or conversations ('-' = stdin)")
    p.add_argument("--output", metavar="FILE", help="batch output JSONL ('-' = stdout, the default)")
    p.add_argument("--overwrite", action="store_true", help="batch: start the output file over instead of resuming")
    p.add_argument("--json", action="store_true", help="print the draft as JSON (with the alternatives and checks)")
    _add_generator(p)
    _add_common(p)

    p = sub.add_parser(
        "summarize",
        help="structured summaries of finished conversations (batch, resumable)",
        description="Summarise conversations into issue, actions, resolution, next steps, sentiment and category. "
        "PII is masked first. The summary paragraph comes from the generator when it passes validation (no "
        "number, date, id, e-mail or phone absent from the conversation; right language; <= 100 words; in the "
        "conversation's own language, 80% of its content words taken from it), else from the extractive summary; "
        "'path' says which.",
        epilog="examples:\n  copilot summarize export.jsonl --output summaries.jsonl --language fr\n"
        "  copilot summarize tickets.csv --output s.jsonl --generator none --workers 2\n"
        "  cat conv.jsonl | copilot summarize - > s.jsonl\n\n"
        'input rows (JSONL): {"id","turns":[{"speaker","text"}]} or {"id","text":"Customer: ...\\nAgent: ..."}; '
        "CSV: columns id and text (or conversation, or turns as JSON). Rerunning the same command resumes: rows "
        "already in OUT are skipped, none is lost or duplicated, even after kill -9.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", metavar="INPUT", help="JSONL or CSV file, or '-' for stdin (JSONL)")
    p.add_argument("--output", metavar="FILE", help="output JSONL ('-' = stdout, the default)")
    p.add_argument("--language", metavar="LANG", help="language of the summaries: fr, ar, es, en (default: the conversation's)")
    p.add_argument(
        "--workers", type=int, default=1, metavar="N", help="parallel workers (processes; threads for --generator openai)"
    )
    p.add_argument("--overwrite", action="store_true", help="start the output over instead of resuming")
    p.add_argument("--no-redact", action="store_true", help="do not mask PII first (only for data already anonymised)")
    _add_generator(p, summaries=True)
    _add_common(p)

    p = sub.add_parser(
        "serve",
        help="the agent panel and team-lead view in the browser (Gradio), with its API",
        description="Starts the panel on 127.0.0.1 (never shared publicly). API endpoints for gradio_client: "
        "/draft_reply, /search, /summarize, /feedback. Logins: COPILOT_AUTH='alice:secret:agent,bob:secret2:lead'.",
        epilog="example: copilot serve --index models/index --port 7860",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--kb", metavar="DIR", action="append", help="KB folder(s) re-indexed with uploads (default: knowledge_base/)")
    _add_generator(p)
    _add_common(p)

    p = sub.add_parser(
        "redact",
        help="mask personal data (e-mails, phones, IBANs, cards, CIN, NIR, IPs, token URLs, names)",
        description="One output line per input line, with typed placeholders (<EMAIL_1>, <PHONE_1>) that stay "
        "consistent across the whole input. Order numbers, amounts, dates and product codes are kept.",
        epilog="examples:\n  copilot redact export.txt > clean.txt\n  echo 'appelez-moi au 06 12 34 56 78' | copilot redact -",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", metavar="INPUT", help="a text file, or '-' for stdin")
    p.add_argument("--mapping", metavar="FILE", help="also write the placeholder -> value mapping as JSON (keep it safe)")
    p.add_argument("-v", "--verbose", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--no-progress", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser(
        "rewrite",
        help="rewrite a draft (shorter, longer, formal, friendly, empathetic) or translate a text",
        description="Runs on the configured generator and keeps the [n] citations; when the generated text fails "
        "its checks, a rule-based rewrite is returned instead (and says so).",
        epilog='examples:\n  copilot rewrite --style shorter "Bonjour, ... [1] ..."\n'
        '  copilot rewrite --translate fr "bghit n3ref fin wslat lcommande dyali"',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("text", nargs="?", help="the draft or message ('-' reads it from stdin)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--style", choices=["shorter", "longer", "formal", "friendly", "empathetic"])
    g.add_argument("--translate", metavar="LANG", help="target language: fr, ar, es or en")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    _add_generator(p)
    _add_common(p)
    return parser


def _add_generator(p: argparse.ArgumentParser, summaries: bool = False) -> None:
    p.add_argument(
        "--generator",
        metavar="NAME",
        help="none (default: extractive) | auto (the embedded model writes the paragraph only when the summary is "
        "in another language than the conversation's, or it is Darija) | translate (there, it translates the "
        "extractive summary's quotes instead; experimental) | transformers | llama.cpp | openai (the model for every "
        "summary); $COPILOT_SUMMARY_GENERATOR"
        if summaries
        else "transformers (embedded, default) | llama.cpp | openai | none (extractive drafts only); $COPILOT_GENERATOR",
    )
    p.add_argument("--model", metavar="NAME", help="gemma-3-270m (default), or a model folder / .gguf under models/")
    p.add_argument("--base-url", metavar="URL", help="openai backend: server URL ending in /v1 ($COPILOT_OPENAI_BASE_URL)")


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
        generator = getattr(args, "generator", None)
        summary_generator = generator if args.command == "summarize" else None
        if summary_generator in ("auto", "translate", "default"):  # summary policies, not backends
            generator = None
        settings = Settings.from_env(
            progress=False if args.no_progress else None,
            generator=generator,
            summary_generator=summary_generator,
            model=getattr(args, "model", None),
            openai_base_url=getattr(args, "base_url", None),
        )
        if args.command == "redact":
            return _cmd_redact(args)
        copilot = _copilot(args, settings)
        if args.command == "index":
            return _cmd_index(args, copilot)
        if args.command == "search":
            return _cmd_search(args, copilot)
        if args.command == "reply":
            return _cmd_reply(args, copilot)
        if args.command == "rewrite":
            return _cmd_rewrite(args, copilot)
        if args.command == "summarize":
            return _cmd_summarize(args, copilot)
        if args.command == "serve":
            return _cmd_serve(args, copilot)
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


def _iter_jsonl(path: str, max_bytes: int = 10_000_000) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, row or None, error) for each non-blank line; lines above ``max_bytes`` are refused."""
    if path == "-":
        stream: IO[bytes] = sys.stdin.buffer
    else:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"cannot read '{path}': no such file")
        stream = p.open("rb")
    try:
        for n, raw in enumerate(stream, 1):
            if len(raw) > max_bytes:
                yield n, None, f"line is {len(raw):,} bytes, above the {max_bytes:,} limit (COPILOT_MAX_ROW_BYTES)"
                continue
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
        for n, row, err in _iter_jsonl(args.input, copilot.settings.max_row_bytes):
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


def _cmd_reply(args: argparse.Namespace, copilot: Copilot) -> int:
    if args.input:
        return _reply_batch(args, copilot)
    if args.output:
        raise InputError("--output needs --input (batch mode)")
    message = _read_query(args.message)
    if args.json:
        draft = copilot.draft_reply(message)
        print(json.dumps(draft.to_dict(verbose=True), ensure_ascii=False, indent=2))
        return 0
    streamed: list[str] = []

    def show(piece: str) -> None:  # stream the generator's text to stderr while it comes
        streamed.append(piece)
        if sys.stderr.isatty():
            sys.stderr.write(piece)
            sys.stderr.flush()

    draft = copilot.draft_reply(message, on_text=show)
    if streamed and sys.stderr.isatty():
        sys.stderr.write("\n")
    print(format_draft(draft))
    return 0


def format_draft(draft: Any) -> str:
    """Human-readable draft with its sources and the path that produced it."""
    lines = [f"language: {draft.language} -> reply in {draft.reply_language}; path: {draft.path}; model: {draft.model}"]
    if draft.no_match:
        lines.append("no KB article answers this: holding reply (check with a colleague or transfer)")
    for w in draft.warnings:
        lines.append(f"warning: {w}")
    if draft.rejected:
        lines.append("generated text rejected: " + "; ".join(draft.rejected))
    lines += ["", draft.reply, ""]
    for c in draft.citations:
        lines.append(f"[{c.n}] {c.title} ({c.article_id}{', ' + c.url if c.url else ''})")
    t = draft.timings
    lines.append(
        f"retrieval {t.get('retrieval_ms', 0):.0f} ms, first token {t.get('first_token_ms', 0):.0f} ms, "
        f"generation {t.get('generation_ms', 0):.0f} ms, {t.get('new_tokens', 0)} tokens"
    )
    return "\n".join(lines)


class ResumableOutput:
    """Append-only JSONL output that knows which ids are already done (resume after a crash).

    Each row is written and flushed (and fsynced) on its own, so a killed run loses at most the row in
    progress; a torn last line is cut off before appending. ``-`` writes to stdout (no resume).
    """

    def __init__(self, path: str | None, *, overwrite: bool = False) -> None:
        self.path = None if path in (None, "-") else Path(path)  # type: ignore[arg-type]
        self.done: set[str] = set()
        self._f: IO[str] | None = None
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if overwrite or not self.path.exists():
            self.path.write_text("", encoding="utf-8")
            return
        raw = self.path.read_bytes()
        good = raw if raw.endswith(b"\n") or not raw else raw[: raw.rfind(b"\n") + 1]
        if len(good) != len(raw):
            with self.path.open("r+b") as f:
                f.truncate(len(good))
        for line in good.decode("utf-8", errors="replace").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and "id" in row:
                self.done.add(str(row["id"]))

    def __enter__(self) -> ResumableOutput:
        self._f = sys.stdout if self.path is None else self.path.open("a", encoding="utf-8")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._f is not None and self._f is not sys.stdout:
            self._f.close()

    def write(self, row: dict[str, Any]) -> None:
        assert self._f is not None
        self._f.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._f.flush()
        if self._f is not sys.stdout:
            os.fsync(self._f.fileno())


def _reply_batch(args: argparse.Namespace, copilot: Copilot) -> int:
    counts = {"ok": 0, "error": 0, "skipped": 0, "generated": 0, "no_match": 0}
    copilot.retriever()  # fail early (missing index) before reading input
    limit = copilot.settings.max_query_chars
    with ResumableOutput(args.output, overwrite=args.overwrite) as out:
        rows = list(_iter_jsonl(args.input, copilot.settings.max_row_bytes))
        bar = _progress(len(rows), "drafting", copilot.settings.progress)
        for n, row, err in rows:
            bar.update(1)
            rid = str(row.get("id", n)) if row is not None else str(n)
            if rid in out.done:
                counts["skipped"] += 1
                continue
            if row is not None and not err:
                text, turns = row.get("text"), row.get("turns")
                if turns is None and (not isinstance(text, str) or not text.strip()):
                    err = "missing or empty 'text' (or 'turns')"
                elif isinstance(text, str) and len(text) > limit:
                    err = f"'text' longer than {limit} characters"
            if err:
                out.write({"id": rid, "error": f"line {n}: {err}"})
                counts["error"] += 1
                continue
            assert row is not None
            try:
                if row.get("turns") is not None:
                    draft = copilot.draft_reply(turns=row["turns"])
                else:
                    draft = copilot.draft_reply(row["text"])
            except InputError as e:
                out.write({"id": rid, "error": f"line {n}: {e}"})
                counts["error"] += 1
                continue
            d = draft.to_dict()
            out.write({"id": rid, **{k: d[k] for k in d if k != "id"}})
            counts["ok"] += 1
            counts["generated"] += draft.path == "generated"
            counts["no_match"] += draft.no_match
        bar.close()
    print(
        f"drafted {counts['ok']} replies ({counts['generated']} generated, {counts['ok'] - counts['generated']} extractive, "
        f"{counts['no_match']} without a KB answer), {counts['error']} errors, {counts['skipped']} already done",
        file=sys.stderr,
    )
    return 0


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="row", file=sys.stderr, disable=not enabled or total < 2, dynamic_ncols=True)


def _cmd_rewrite(args: argparse.Namespace, copilot: Copilot) -> int:
    text = _read_query(args.text)
    if args.translate:
        result = copilot.translate(text, args.translate)
    else:
        result = copilot.rewrite(text, args.style)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        if result.path != "generated":
            print(f"({result.path}: {result.note})", file=sys.stderr)
        print(result.text)
    return 0


def _iter_conversations(path: str, max_bytes: int = 10_000_000) -> Iterator[tuple[int, str, Any, str]]:
    """(line number, id, conversation or None, error) from a JSONL or CSV export."""
    if path != "-" and path.lower().endswith(".csv"):
        import csv

        p = Path(path)
        if not p.is_file():
            raise InputError(f"cannot read '{path}': no such file")
        from copilot.kb.load import decode_text

        text = decode_text(p.read_bytes(), str(p))
        csv.field_size_limit(50_000_000)
        reader = csv.DictReader(text.splitlines())
        fields = {f.strip().lower(): f for f in reader.fieldnames or []}
        col = next((fields[c] for c in ("turns", "conversation", "text", "dialogue") if c in fields), None)
        if col is None:
            raise InputError(f"'{path}' has no 'text', 'conversation' or 'turns' column (columns: {', '.join(fields)})")
        for n, csv_row in enumerate(reader, 2):
            rid = str(csv_row.get(fields.get("id", ""), "") or n)
            value: Any = csv_row.get(col) or ""
            if col == fields.get("turns"):
                try:
                    value = json.loads(value)
                except json.JSONDecodeError:
                    yield n, rid, None, "'turns' is not valid JSON"
                    continue
            yield n, rid, value, ""
        return
    for n, row, err in _iter_jsonl(path, max_bytes):
        if row is None:
            yield n, str(n), None, err
            continue
        rid = str(row.get("id", row.get("conversation_id", n)))
        value = next((row[k] for k in ("turns", "conversation", "text", "dialogue") if row.get(k)), None)
        yield n, rid, value, "" if value is not None else "missing 'turns' or 'text'"


_WORKER: Copilot | None = None


def _init_worker(settings: Settings, index: str | None, embedder: str | None) -> None:
    global _WORKER
    from copilot.service import Copilot

    _WORKER = Copilot(settings, index_dir=index, embedder_spec=embedder)


def _summarize_one(rid: str, value: Any, language: str | None, redact: bool) -> dict[str, Any]:
    assert _WORKER is not None
    try:
        s = _WORKER.summarize_conversation(value, language=language, redact_pii=redact)
    except CopilotError as e:
        return {"id": rid, "error": str(e)}
    return {"id": rid, **s.to_dict()}


def _cmd_summarize(args: argparse.Namespace, copilot: Copilot) -> int:
    import time
    from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait

    if args.workers < 1:
        raise InputError("--workers must be at least 1")
    if args.language and args.language not in ("fr", "ar", "es", "en"):
        raise InputError("--language must be fr, ar, es or en")
    settings = copilot.settings
    remote = settings.summary_generator == "openai" or (
        settings.summary_generator in ("default", "auto", "translate") and settings.generator == "openai"
    )
    global _WORKER
    executor: Executor | None = None
    if args.workers == 1 or remote:
        _WORKER = copilot
        if args.workers > 1:
            executor = ThreadPoolExecutor(args.workers)
    else:
        per = settings.replace(threads=max(1, settings.threads // args.workers), progress=False)
        executor = ProcessPoolExecutor(args.workers, initializer=_init_worker, initargs=(per, args.index, args.embedder))
    counts = {"ok": 0, "error": 0, "skipped": 0, "generated": 0, "translated": 0}
    start = time.perf_counter()
    with ResumableOutput(args.output, overwrite=args.overwrite) as out:
        rows = list(_iter_conversations(args.input, settings.max_row_bytes))
        todo = [r for r in rows if r[1] not in out.done]
        counts["skipped"] = len(rows) - len(todo)
        bar = _progress(len(todo), "summarising", settings.progress)

        def record(row: dict[str, Any]) -> None:
            out.write(row)
            bar.update(1)
            if "error" in row:
                counts["error"] += 1
            else:
                counts["ok"] += 1
                counts["generated"] += row.get("path") == "generated"
                counts["translated"] += row.get("path") == "translated"

        redact = not args.no_redact
        try:
            if executor is None:
                for n, rid, value, err in todo:
                    record({"id": rid, "error": f"line {n}: {err}"} if err else _summarize_one(rid, value, args.language, redact))
            else:
                pending: set[Future[dict[str, Any]]] = set()
                for n, rid, value, err in todo:
                    if err:
                        record({"id": rid, "error": f"line {n}: {err}"})
                        continue
                    pending.add(executor.submit(_summarize_one, rid, value, args.language, redact))
                    if len(pending) >= 4 * args.workers:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for f in done:
                            record(f.result())
                for f in pending:
                    record(f.result())
        finally:
            bar.close()
            if executor is not None:
                executor.shutdown(cancel_futures=True)
    minutes = (time.perf_counter() - start) / 60
    rate = counts["ok"] / minutes if minutes > 0 else 0.0
    print(
        f"summarised {counts['ok']} conversations ({counts['generated']} generated, {counts['translated']} with translated "
        f"quotes, {counts['ok'] - counts['generated'] - counts['translated']} extractive), {counts['error']} errors, {counts['skipped']} already done; {rate:.0f} conversations/minute",
        file=sys.stderr,
    )
    return 0


def _cmd_serve(args: argparse.Namespace, copilot: Copilot) -> int:
    from copilot.config import PROJECT_DIR
    from copilot.feedback import FeedbackStore
    from copilot.panel import Panel, build_app, parse_auth

    settings = copilot.settings
    kb_dirs = [Path(k) for k in (args.kb or [str(PROJECT_DIR / "knowledge_base")])]
    if not copilot.index_dir.exists():
        print(f"No index at {copilot.index_dir}: indexing {', '.join(map(str, kb_dirs))} first…", file=sys.stderr)
        copilot.build_index(kb_dirs)
    copilot.retriever().warm_up()
    store = FeedbackStore.from_settings(settings)
    panel = Panel(copilot, store, kb_dirs)
    users = parse_auth(settings.auth)
    panel.roles = {u: role for u, (_, role) in users.items()}
    app = build_app(panel)
    app.queue(default_concurrency_limit=8, max_size=200)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: serving on {args.host}: reachable from other machines; set COPILOT_AUTH", file=sys.stderr)
    gen = copilot.generator()
    print(
        f"copilot panel on http://{args.host}:{args.port} (generator: {gen.model_id if gen else 'none'}; "
        f"feedback: {store.url.split('@')[-1]})",
        file=sys.stderr,
        flush=True,
    )
    auth = (lambda u, p: u in users and users[u][0] == p) if users else None
    import gradio as gr

    from copilot.panel import CSS

    app.launch(
        server_name=args.host,
        server_port=args.port,
        share=False,
        auth=auth,
        show_error=False,
        quiet=True,
        css=CSS,
        theme=gr.themes.Soft(),
    )
    return 0


def _cmd_redact(args: argparse.Namespace) -> int:
    from copilot.kb.load import decode_text
    from copilot.pii import Redactor

    if args.input == "-":
        data = sys.stdin.buffer.read()
    else:
        p = Path(args.input)
        if not p.is_file():
            raise InputError(f"cannot read '{args.input}': no such file")
        data = p.read_bytes()
    if b"\x00" in data[:8192]:
        raise InputError(f"'{args.input}' looks binary; give a text file")
    text = decode_text(data, args.input)
    red = Redactor()
    for line in text.splitlines():
        sys.stdout.write(red.redact(line) + "\n")
    sys.stdout.flush()
    if args.mapping:
        Path(args.mapping).write_text(json.dumps(red.mapping, ensure_ascii=False, indent=2), encoding="utf-8")
    counts: dict[str, int] = {}
    for ph in red.mapping:
        kind = ph[1:].rsplit("_", 1)[0]
        counts[kind] = counts.get(kind, 0) + 1
    print("masked: " + (", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "nothing"), file=sys.stderr)
    return 0


def main_exit() -> None:
    """Console-script entry point."""
    sys.exit(main())
