"""Frozen dataclasses shared by every layer: articles, chunks, hits, languages, search results."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """One knowledge-base article (or FAQ entry) as loaded from a file."""

    id: str
    title: str
    text: str
    language: str = ""
    url: str = ""
    tags: tuple[str, ...] = ()
    translation_key: str = ""
    category: str = ""
    source: str = ""
    #: The FAQ question, when the article is a FAQ entry (indexed as its own view).
    question: str = ""


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of an article; ``id`` is a content hash.

    ``kind`` is ``text`` for a piece of the body (what is shown and cited) or a *view* of the whole
    article that is only embedded: ``title`` or ``question`` (a FAQ entry's question). Views let a
    short customer question match a short title or question instead of a long passage.
    """

    id: str
    article_id: str
    title: str
    text: str
    position: int
    language: str = ""
    url: str = ""
    tags: tuple[str, ...] = ()
    translation_key: str = ""
    category: str = ""
    source: str = ""
    kind: str = "text"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tags"] = list(self.tags)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Chunk:
        return cls(
            id=str(d["id"]),
            article_id=str(d["article_id"]),
            title=str(d.get("title", "")),
            text=str(d["text"]),
            position=int(d.get("position", 0)),
            language=str(d.get("language", "")),
            url=str(d.get("url", "")),
            tags=tuple(d.get("tags", ()) or ()),
            translation_key=str(d.get("translation_key", "")),
            category=str(d.get("category", "")),
            source=str(d.get("source", "")),
            kind=str(d.get("kind", "text")),
        )

    @property
    def embed_text(self) -> str:
        """Text given to the embedder: the title gives short chunks their topic."""
        if self.kind != "text":
            return self.text
        return f"{self.title}\n{self.text}" if self.title and not self.text.startswith(self.title) else self.text


@dataclass(frozen=True)
class LanguageInfo:
    """Detected language of a text.

    ``code`` is ``fr``, ``ar``, ``es``, ``en``, ``ary`` (Darija in Arabic script), ``ary-Latn``
    (Darija in Latin letters, "Arabizi") or another ISO 639 code; ``und`` when undetermined.
    """

    code: str
    confidence: float
    script: str = "Latn"
    mixed_with: tuple[str, ...] = ()

    @property
    def is_darija(self) -> bool:
        return self.code.startswith("ary")

    @property
    def name(self) -> str:
        return LANGUAGE_NAMES.get(self.code, self.code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "confidence": round(self.confidence, 3),
            "script": self.script,
            "mixed_with": list(self.mixed_with),
        }


LANGUAGE_NAMES: dict[str, str] = {
    "fr": "French",
    "ar": "Arabic (MSA)",
    "ary": "Moroccan Darija (Arabic script)",
    "ary-Latn": "Moroccan Darija (Latin script, Arabizi)",
    "es": "Spanish",
    "en": "English",
    "und": "undetermined",
}


@dataclass(frozen=True)
class Hit:
    """One article returned by a search, with its best chunk and the scores behind its rank."""

    article_id: str
    title: str
    score: float
    language: str
    chunk: Chunk
    dense_score: float = 0.0
    lexical_score: float = 0.0
    url: str = ""
    translations: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return self.chunk.text

    def to_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "title": self.title,
            "score": round(self.score, 4),
            "language": self.language,
            "chunk_id": self.chunk.id,
            "text": self.chunk.text,
            "url": self.url,
            "dense_score": round(self.dense_score, 4),
            "lexical_score": round(self.lexical_score, 4),
            "translations": list(self.translations),
        }


@dataclass(frozen=True)
class SearchResult:
    """Answer to one query: its language, the ranked article hits and the no-match decision."""

    query: str
    language: LanguageInfo
    hits: list[Hit] = field(default_factory=list)
    no_match: bool = True
    confidence: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    #: The evidence behind ``confidence`` (best cosine, its lead over the next articles, BM25).
    features: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language.code,
            "language_info": self.language.to_dict(),
            "no_match": self.no_match,
            "confidence": round(self.confidence, 4),
            "hits": [h.to_dict() for h in self.hits],
        }
