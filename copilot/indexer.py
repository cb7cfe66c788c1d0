"""Build or update an index folder from KB files, re-embedding only chunks that changed."""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from copilot.errors import CopilotError, InputError
from copilot.index import KBIndex, read_manifest
from copilot.kb.chunk import chunk_article
from copilot.kb.load import LoadReport, discover, file_digest, load_file
from copilot.types import Article, Chunk

if TYPE_CHECKING:
    from copilot.config import Settings
    from copilot.embed import Embedder

log = logging.getLogger(__name__)


@dataclass
class BuildReport:
    """Counts of one index build, printed by the CLI."""

    files: int = 0
    files_reparsed: int = 0
    articles: int = 0
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    removed: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)
    full_rebuild: bool = False

    def summary(self) -> str:
        rate = f", {self.embedded / self.seconds:,.0f} chunks/s" if self.embedded and self.seconds else ""
        return (
            f"{self.files} files, {self.articles} articles, {self.chunks} chunks: {self.embedded} embedded, "
            f"{self.reused} reused, {self.removed} removed in {self.seconds:.1f}s{rate}"
            + (f"; {len(self.skipped)} skipped" if self.skipped else "")
        )


def _chunking(settings: Settings) -> dict[str, object]:
    return {
        "splitter": "langchain_text_splitters.RecursiveCharacterTextSplitter",
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "views": settings.index_views,
        "version": 1,
    }


def _fill_language(article: Article) -> Article:
    if article.language:
        return article
    from dataclasses import replace

    from copilot.lang import detect_language

    return replace(article, language=detect_language(article.title + "\n" + article.text[:2000]).code)


def build_index(
    sources: list[str | Path],
    index_dir: str | Path,
    embedder: Embedder,
    settings: Settings,
    *,
    embedder_spec: str = "",
    rebuild: bool = False,
) -> BuildReport:
    """Index KB files into ``index_dir``, reusing every unchanged chunk's vector from the previous build.

    Args:
        sources: Files and folders to index (the whole KB: files absent from it are dropped).
        index_dir: The index folder to create or update.
        embedder: The embedder; its ``model_id`` is recorded in the manifest.
        settings: Chunking and limits.
        embedder_spec: How to rebuild the embedder later (``use``, ``e5``, ``st:<folder>``...).
        rebuild: Ignore the previous build and re-embed everything.

    Raises:
        InputError: No supported file, or two files define the same article id.
    """
    start = time.perf_counter()
    report = BuildReport()
    files = discover(sources)
    roots = {Path(s).resolve() for s in sources if Path(s).is_dir()}
    chunking = _chunking(settings)

    old_manifest = None if rebuild else read_manifest(index_dir)
    old: KBIndex | None = None
    if old_manifest is not None:
        same_embedder = old_manifest.get("embedder", {}).get("model_id") == embedder.model_id
        if same_embedder:
            try:
                old = KBIndex.load(index_dir)
            except CopilotError as e:
                log.warning("previous index unusable (%s); rebuilding from scratch", e)
        else:
            log.warning(
                "index at %s was built with %s; rebuilding it with %s",
                index_dir,
                old_manifest.get("embedder", {}).get("model_id"),
                embedder.model_id,
            )
    report.full_rebuild = old is None
    old_files: dict[str, dict[str, object]] = (old.manifest.get("files", {}) if old else {}) or {}
    same_chunking = old is not None and old.manifest.get("chunking") == chunking
    old_by_source: dict[str, list[int]] = {}
    if old is not None:
        for i, c in enumerate(old.chunks):
            old_by_source.setdefault(c.source, []).append(i)

    load_report = LoadReport()
    chunks: list[Chunk] = []
    file_info: dict[str, dict[str, object]] = {}
    owner: dict[str, str] = {}
    for f in _progress(files, settings, "reading"):
        key = str(f)
        digest = file_digest(f)
        prev = old_files.get(key)
        if same_chunking and prev is not None and prev.get("sha256") == digest and key in old_by_source and old:
            file_chunks = [old.chunks[i] for i in old_by_source[key]]
        else:
            root = next((r for r in roots if f.is_relative_to(r)), None)
            try:
                articles = load_file(f, root, load_report, settings.max_file_bytes)
            except InputError as e:
                load_report.skip(key, str(e))
                continue
            report.files_reparsed += 1
            file_chunks = []
            for a in articles:
                file_chunks.extend(
                    chunk_article(_fill_language(a), settings.chunk_size, settings.chunk_overlap, settings.index_views)
                )
        for aid in {c.article_id for c in file_chunks}:
            if aid in owner and owner[aid] != key:
                raise InputError(f"article id '{aid}' is defined in both {owner[aid]} and {key}; give each article a unique id")
            owner[aid] = key
        file_info[key] = {
            "sha256": digest,
            "articles": len({c.article_id for c in file_chunks}),
            "chunks": len(file_chunks),
        }
        chunks.extend(file_chunks)
    report.files = len(file_info)
    report.skipped = load_report.skipped

    # de-duplicate chunk ids (the same article text in two files keeps its first occurrence)
    unique: dict[str, Chunk] = {}
    for c in chunks:
        unique.setdefault(c.id, c)
    chunks = list(unique.values())

    old_rows = {c.id: i for i, c in enumerate(old.chunks)} if old is not None else {}
    vectors = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
    todo = [i for i, c in enumerate(chunks) if c.id not in old_rows]
    for i, c in enumerate(chunks):
        if c.id in old_rows and old is not None:
            vectors[i] = old.vectors[old_rows[c.id]]
    report.reused = len(chunks) - len(todo)
    report.removed = len(set(old_rows) - set(unique)) if old is not None else 0
    if todo:
        _embed_missing(chunks, vectors, todo, embedder, settings)
    report.embedded = len(todo)

    kb_hash = hashlib.sha256("".join(f"{k}:{v['sha256']}\n" for k, v in sorted(file_info.items())).encode()).hexdigest()
    unchanged = old is not None and not todo and report.removed == 0 and old.manifest.get("kb_hash") == kb_hash
    if not unchanged:
        manifest = {
            "embedder": {"spec": embedder_spec or embedder.model_id, "model_id": embedder.model_id, "dim": embedder.dim},
            "chunking": chunking,
            "kb_hash": kb_hash,
            "files": file_info,
        }
        KBIndex(chunks=chunks, vectors=vectors, manifest=manifest).save(index_dir)
    report.articles = len({c.article_id for c in chunks})
    report.chunks = len(chunks)
    report.seconds = time.perf_counter() - start
    return report


def _embed_missing(chunks: list[Chunk], vectors: np.ndarray, todo: list[int], embedder: Embedder, settings: Settings) -> None:
    """Fill ``vectors[todo]``: body chunks are embedded; a centroid view is the mean of its title and
    question vectors and of its article's body-chunk vectors."""
    from copilot.embed import normalize_rows
    from copilot.kb.chunk import centroid_parts

    text_rows = [i for i in todo if chunks[i].kind == "text"]
    views = [i for i in todo if chunks[i].kind == "centroid"]
    parts = [(i, p) for i in views for p in centroid_parts(chunks[i])]
    bar = _bar(len(text_rows) + len(parts), settings, "embedding")
    batch = 256
    for s in range(0, len(text_rows), batch):
        idx = text_rows[s : s + batch]
        vectors[idx] = embedder.embed_documents([chunks[i].embed_text for i in idx])
        if bar is not None:
            bar.update(len(idx))
    part_vecs = embedder.embed_documents([p for _, p in parts]) if parts else np.zeros((0, embedder.dim), np.float32)
    if bar is not None:
        bar.update(len(parts))
        bar.close()
    body: dict[str, list[int]] = {}
    for i, c in enumerate(chunks):
        if c.kind == "text":
            body.setdefault(c.article_id, []).append(i)
    by_view: dict[int, list[np.ndarray]] = {}
    for (i, _), v in zip(parts, part_vecs):
        by_view.setdefault(i, []).append(v)
    for i in views:
        members = by_view.get(i, [])
        rows = body.get(chunks[i].article_id, [])
        if rows:
            members.append(normalize_rows(vectors[rows].mean(axis=0))[0])
        if members:
            vectors[i] = normalize_rows(np.mean(members, axis=0))[0]


def _progress(items: list[Path], settings: Settings, desc: str) -> Iterable[Path]:
    if not settings.progress or len(items) < 50:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="file", file=sys.stderr, leave=False)


def _bar(total: int, settings: Settings, desc: str):  # type: ignore[no-untyped-def]
    if not settings.progress or total < 256:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="chunk", file=sys.stderr)
