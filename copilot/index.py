"""The index folder: FAISS inner-product index + chunks.jsonl + manifest.json, written atomically.

Layout of ``DIR``::

    manifest.json   format version, embedder, dimension, chunking, KB hash, per-file digests, checksums
    index.faiss     IndexFlatIP over L2-normalised float32 vectors, row i <-> line i of chunks.jsonl
    chunks.jsonl    one JSON object per chunk (text and metadata; never pickle)

A build writes a sibling ``DIR.building-*`` folder and swaps it in with renames; a crash at any
point leaves either the old index or ``DIR.previous`` (recovered on the next load).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from copilot.errors import IndexCorrupted, IndexMismatch, IndexNotFound, MissingDependency
from copilot.kb.load import file_digest
from copilot.types import Chunk

if TYPE_CHECKING:
    from numpy.typing import NDArray

FORMAT = "copilot-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FAISS_FILE = "index.faiss"
CHUNKS_FILE = "chunks.jsonl"


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as e:
        raise MissingDependency("faiss-cpu==1.15.1", "the vector index") from e
    return faiss


@dataclass
class KBIndex:
    """Chunks, their vectors and the manifest describing how they were made."""

    chunks: list[Chunk]
    vectors: NDArray[np.float32]
    manifest: dict[str, Any] = field(default_factory=dict)
    _faiss_index: Any = None

    def __post_init__(self) -> None:
        if len(self.chunks) != self.vectors.shape[0]:
            raise ValueError(f"{len(self.chunks)} chunks but {self.vectors.shape[0]} vectors")

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0

    @property
    def embedder_id(self) -> str:
        return str(self.manifest.get("embedder", {}).get("model_id", ""))

    @property
    def embedder_spec(self) -> str:
        return str(self.manifest.get("embedder", {}).get("spec", ""))

    def faiss_index(self) -> Any:
        """The FAISS index over ``vectors`` (built on first use)."""
        if self._faiss_index is None:
            faiss = _faiss()
            idx = faiss.IndexFlatIP(self.dim)
            if len(self.chunks):
                idx.add(np.ascontiguousarray(self.vectors, dtype=np.float32))
            self._faiss_index = idx
        return self._faiss_index

    def search_vectors(self, queries: NDArray[np.float32], k: int) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """Inner-product top-k for each query row; missing slots have index -1."""
        k = max(1, min(k, len(self.chunks)))
        if not len(self.chunks):
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        scores, ids = self.faiss_index().search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, ids

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | Path) -> Path:
        """Write the index folder atomically (build aside, then swap with renames)."""
        faiss = _faiss()
        target = Path(directory)
        target.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=target.name + ".building-", dir=target.parent))
        try:
            with (building / CHUNKS_FILE).open("w", encoding="utf-8") as f:
                for c in self.chunks:
                    f.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
            idx = faiss.IndexFlatIP(self.dim)
            if len(self.chunks):
                idx.add(np.ascontiguousarray(self.vectors, dtype=np.float32))
            faiss.write_index(idx, str(building / FAISS_FILE))
            manifest = dict(self.manifest)
            manifest.update(
                format=FORMAT,
                format_version=FORMAT_VERSION,
                dimension=self.dim,
                n_chunks=len(self.chunks),
                n_articles=len({c.article_id for c in self.chunks}),
                checksums={name: file_digest(building / name) for name in (FAISS_FILE, CHUNKS_FILE)},
            )
            manifest.setdefault("built_at", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            tmp = building / (MANIFEST + ".tmp")
            tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
            for name in (CHUNKS_FILE, FAISS_FILE, tmp.name):
                _fsync(building / name)
            os.replace(tmp, building / MANIFEST)
            _swap_in(building, target)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        self.manifest = manifest
        return target

    @classmethod
    def load(cls, directory: str | Path, *, verify: bool = True) -> KBIndex:
        """Read an index folder.

        Raises:
            IndexNotFound: No manifest at ``directory``.
            IndexCorrupted: Files missing, checksums wrong, or unreadable content.
        """
        path = Path(directory)
        _recover(path)
        manifest_path = path / MANIFEST
        if not manifest_path.is_file():
            raise IndexNotFound(str(path))
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise IndexCorrupted(str(path), "manifest.json is not valid JSON") from e
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise IndexCorrupted(str(path), "manifest.json is not a copilot index manifest")
        if int(manifest.get("format_version", 0)) != FORMAT_VERSION:
            raise IndexMismatch(
                f"the index at '{path}' has format version {manifest.get('format_version')}, this copilot reads "
                f"version {FORMAT_VERSION}. Rebuild it: `copilot index <your KB folder> --index {path} --rebuild`"
            )
        for name in (FAISS_FILE, CHUNKS_FILE):
            if not (path / name).is_file():
                raise IndexCorrupted(str(path), f"{name} is missing")
            if verify:
                expected = manifest.get("checksums", {}).get(name)
                if expected and file_digest(path / name) != expected:
                    raise IndexCorrupted(str(path), f"{name} does not match its checksum (edited or truncated)")
        chunks: list[Chunk] = []
        try:
            with (path / CHUNKS_FILE).open(encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        chunks.append(Chunk.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError) as e:
            raise IndexCorrupted(str(path), f"chunks.jsonl has an unreadable line ({e.__class__.__name__})") from e
        faiss = _faiss()
        try:
            idx = faiss.read_index(str(path / FAISS_FILE))
        except RuntimeError as e:
            raise IndexCorrupted(str(path), "index.faiss cannot be read") from e
        if idx.ntotal != len(chunks):
            raise IndexCorrupted(str(path), f"index.faiss has {idx.ntotal} vectors for {len(chunks)} chunks")
        dim = int(manifest.get("dimension", idx.d))
        if idx.d != dim:
            raise IndexCorrupted(str(path), f"index.faiss has dimension {idx.d}, manifest says {dim}")
        vectors = idx.reconstruct_n(0, idx.ntotal) if idx.ntotal else np.zeros((0, idx.d), np.float32)
        return cls(chunks=chunks, vectors=np.asarray(vectors, dtype=np.float32), manifest=manifest, _faiss_index=idx)


def read_manifest(directory: str | Path) -> dict[str, Any] | None:
    """The manifest of an index folder, or None when there is no readable one."""
    path = Path(directory)
    _recover(path)
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _previous(target: Path) -> Path:
    return target.with_name(target.name + ".previous")


def _swap_in(building: Path, target: Path) -> None:
    prev = _previous(target)
    if prev.exists():
        shutil.rmtree(prev)
    if target.exists():
        os.rename(target, prev)
    os.rename(building, target)
    shutil.rmtree(prev, ignore_errors=True)


def _recover(target: Path) -> None:
    """Finish or roll back a swap interrupted by a crash."""
    prev = _previous(target)
    if not target.exists() and prev.exists():
        os.rename(prev, target)
