"""Read knowledge-base files (.md, .txt, .html, .pdf, FAQ .csv/.jsonl) into `Article`s."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from copilot.errors import InputError
from copilot.types import Article

log = logging.getLogger(__name__)

MARKDOWN = {".md", ".markdown"}
TEXT = {".txt"}
HTML = {".html", ".htm"}
PDF = {".pdf"}
TABLES = {".csv", ".jsonl"}
SUPPORTED = MARKDOWN | TEXT | HTML | PDF | TABLES
FAQ_COLUMNS = ("id", "title", "question", "answer", "language", "url", "tags")

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass
class LoadReport:
    """What happened while loading: per-file problems are recorded here, never swallowed."""

    files: int = 0
    articles: int = 0
    skipped: list[str] = field(default_factory=list)

    def skip(self, where: str, why: str) -> None:
        self.skipped.append(f"{where}: {why}")
        log.warning("skipped %s: %s", where, why)


def discover(sources: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders into the sorted list of supported files.

    Raises:
        InputError: A source does not exist, or nothing supported was found.
    """
    found: list[Path] = []
    for src in sources:
        p = Path(src)
        if not p.exists():
            raise InputError(f"'{p}' does not exist. Give files or folders of .md, .txt, .html, .pdf, .csv or .jsonl")
        if p.is_dir():
            found.extend(
                f
                for f in sorted(p.rglob("*"))
                if f.is_file() and f.suffix.lower() in SUPPORTED and not any(part.startswith(".") for part in f.parts)
            )
        elif p.suffix.lower() in SUPPORTED:
            found.append(p)
        else:
            raise InputError(f"'{p}' has an unsupported type; supported: {', '.join(sorted(SUPPORTED))}")
    unique = sorted({f.resolve() for f in found})
    if not unique:
        raise InputError("no .md, .txt, .html, .pdf, .csv or .jsonl file found in " + ", ".join(map(str, sources)))
    return unique


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (decides whether a file changed since the last build)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def decode_text(data: bytes, where: str) -> str:
    """Decode bytes as UTF-8, else with the detected encoding; refuse binary data.

    Raises:
        InputError: The bytes are binary or in no recognisable encoding.
    """
    if b"\x00" in data[:8192]:
        raise InputError(f"{where} looks binary (NUL bytes); give a text, HTML, PDF or FAQ file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError(f"{where} is not valid UTF-8 and its encoding could not be detected; save it as UTF-8")
    log.warning("%s is not UTF-8; decoded as %s", where, best.encoding)
    return str(best)


def slug(text: str) -> str:
    """Lowercase ASCII-ish id fragment."""
    s = re.sub(r"[^\w]+", "-", text.strip().lower(), flags=re.UNICODE).strip("-")
    return s or "article"


def _tags(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        parts = re.split(r"[;,|]", value)
    elif isinstance(value, (list, tuple)):
        parts = [str(v) for v in value]
    else:
        parts = [str(value)]
    return tuple(t.strip() for t in parts if t and t.strip())


def _article_id(meta: dict[str, Any], path: Path, root: Path | None) -> str:
    if meta.get("id"):
        return str(meta["id"]).strip()
    rel = path.relative_to(root) if root and path.is_relative_to(root) else Path(path.name)
    return slug(str(rel.with_suffix("")))


def load_markdown(path: Path, text: str, root: Path | None = None) -> Article:
    """Markdown with optional YAML front matter (id, title, language, url, tags, translation_key, category)."""
    meta: dict[str, Any] = {}
    body = text
    m = _FRONT_MATTER.match(text)
    if m:
        import yaml

        try:
            loaded = yaml.safe_load(m.group(1))
        except yaml.YAMLError as e:
            raise InputError(
                f"{path}: invalid YAML front matter ({e.__class__.__name__}); fix the block between '---' lines"
            ) from e
        if loaded is not None and not isinstance(loaded, dict):
            raise InputError(f"{path}: front matter must be a mapping of 'key: value' lines")
        meta = loaded or {}
        body = text[m.end() :]
    title = str(meta.get("title") or "").strip()
    h = _HEADING.search(body)
    if not title and h:
        title = h.group(1).strip()
    if h and h.group(1).strip() == title and not body[: h.start()].strip():
        body = body[h.end() :]  # the H1 repeats the title; keep it once
    return _article(meta, path, root, title or path.stem.replace("-", " "), body)


def _article(meta: dict[str, Any], path: Path, root: Path | None, title: str, body: str) -> Article:
    return Article(
        id=_article_id(meta, path, root),
        title=title,
        text=body.strip(),
        language=str(meta.get("language") or meta.get("lang") or "").strip(),
        url=str(meta.get("url") or "").strip(),
        tags=_tags(meta.get("tags")),
        translation_key=str(meta.get("translation_key") or "").strip(),
        category=str(meta.get("category") or "").strip(),
        source=str(path),
    )


def load_html(path: Path, text: str, root: Path | None = None) -> Article:
    """HTML page: scripts, styles and navigation dropped; headings and paragraphs kept as lines."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "nav", "footer", "header", "form", "iframe", "svg"]):
        tag.decompose()
    # text a reader never sees is not KB content (and a classic place to hide instructions for a model)
    hidden = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0", re.I)
    for tag in soup.find_all(True):
        if getattr(tag, "decomposed", False) or tag.attrs is None:
            continue
        if (
            tag.has_attr("hidden")
            or str(tag.get("aria-hidden", "")).lower() == "true"
            or hidden.search(str(tag.get("style", "")))
        ):
            tag.decompose()
    meta: dict[str, Any] = {}
    lang_attr = soup.html.get("lang") if soup.html else None
    if isinstance(lang_attr, str):
        meta["language"] = lang_attr.split("-")[0].lower()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if not title and soup.h1:
        title = soup.h1.get_text(" ", strip=True)
    body_root = soup.body or soup
    lines = [ln.strip() for ln in body_root.get_text("\n").splitlines()]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return _article(meta, path, root, title or path.stem, body)


def load_pdf(path: Path, root: Path | None = None) -> Article:
    """PDF text layer, page by page (scanned PDFs without text are reported as empty)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [(page.extract_text() or "") for page in reader.pages]
        title = ""
        if reader.metadata is not None and reader.metadata.title:
            title = str(reader.metadata.title).strip()
    except (PdfReadError, ValueError, KeyError, OSError) as e:
        raise InputError(f"{path}: unreadable PDF ({e.__class__.__name__}); re-export it or give a text version") from e
    body = "\n\n".join(p.strip() for p in pages if p.strip())
    return _article({}, path, root, title or path.stem.replace("-", " "), body)


def _faq_article(row: dict[str, Any], where: str, default_id: str, path: Path) -> Article:
    question = str(row.get("question") or "").strip()
    answer = str(row.get("answer") or "").strip()
    title = str(row.get("title") or "").strip()
    text_parts = [p for p in (question, answer) if p]
    if not text_parts and not title:
        raise InputError(f"{where}: row has no title, question or answer")
    meta = {k: row.get(k) for k in ("language", "url", "tags", "translation_key", "category")}
    art_id = str(row.get("id") or "").strip() or default_id
    meta["id"] = art_id
    art = _article(meta, path, None, title or question[:120] or art_id, "\n\n".join(text_parts) or title)
    return replace(art, question=question) if question and question != art.title else art


def load_faq_table(path: Path, text: str, report: LoadReport) -> list[Article]:
    """FAQ rows (`id,title,question,answer,language,url,tags`, any subset with text); bad rows are skipped and reported."""
    out: list[Article] = []
    stem = slug(path.stem)
    if path.suffix.lower() == ".jsonl":
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not a JSON object")
                out.append(_faq_article(row, where, f"{stem}-{n}", path))
            except (ValueError, InputError) as e:
                report.skip(where, str(e) if isinstance(e, InputError) else f"invalid JSON ({e})")
        return out
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        return out
    header = [(h or "").strip().lower() for h in reader.fieldnames]
    if not {"question", "answer", "title"} & set(header):
        raise InputError(f"{path}: a FAQ table needs a 'question', 'answer' or 'title' column (got: {', '.join(header)})")
    reader.fieldnames = header
    rows = enumerate(reader, 2)
    while True:
        try:
            n, row = next(rows)
        except StopIteration:
            break
        except csv.Error as e:  # an unterminated quote swallowing the rest of the file, a NUL byte...
            report.skip(f"{path}:{reader.line_num}", f"malformed CSV ({e}); the rest of the file was not read")
            break
        where = f"{path}:{n}"
        if None in row:  # more fields than the header
            report.skip(where, "more fields than the header (unquoted comma?)")
            continue
        try:
            out.append(_faq_article(row, where, f"{stem}-{n}", path))
        except InputError as e:
            report.skip(where, str(e))
    return out


def load_file(
    path: Path, root: Path | None = None, report: LoadReport | None = None, max_bytes: int = 50_000_000
) -> list[Article]:
    """Load one supported file into articles.

    Raises:
        InputError: The file is unreadable, binary, too large or malformed as a whole.
    """
    report = report if report is not None else LoadReport()
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from e
    if size > max_bytes:
        raise InputError(f"{path} is {size / 1e6:.1f} MB, above the {max_bytes / 1e6:.0f} MB limit (COPILOT_MAX_FILE_BYTES)")
    if suffix in PDF:
        arts = [load_pdf(path, root)]
    else:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror}") from e
        text = decode_text(data, str(path))
        if suffix in MARKDOWN:
            arts = [load_markdown(path, text, root)]
        elif suffix in TEXT:
            arts = [_article({}, path, root, path.stem.replace("-", " ").replace("_", " "), text)]
        elif suffix in HTML:
            arts = [load_html(path, text, root)]
        elif suffix in TABLES:
            arts = load_faq_table(path, text, report)
        else:
            raise InputError(f"{path}: unsupported file type '{suffix}'")
    kept = []
    for a in arts:
        if not a.text.strip():
            report.skip(str(path), f"article '{a.id}' has no text (scanned PDF or empty file?)")
            continue
        kept.append(a)
    report.files += 1
    report.articles += len(kept)
    return kept


def iter_articles(files: Iterable[Path], root: Path | None = None, report: LoadReport | None = None) -> Iterator[Article]:
    """Load many files, recording unreadable ones in ``report`` and going on."""
    report = report if report is not None else LoadReport()
    for f in files:
        try:
            yield from load_file(f, root, report)
        except InputError as e:
            report.skip(str(f), str(e))
