"""Split articles into chunks with content-hash ids; the project's only LangChain seam."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from copilot.types import Article, Chunk

# Paragraphs first, then lines, then sentence ends in Latin and Arabic punctuation, then words.
SEPARATORS = ["\n## ", "\n### ", "\n\n", "\n", ". ", "? ", "! ", "؟ ", "۔ ", "; ", "، ", ", ", " ", ""]


def chunk_id(article_id: str, title: str, text: str, kind: str = "text") -> str:
    """Stable content hash of a chunk (same text in the same article -> same id across rebuilds)."""
    parts = (article_id, title, text) if kind == "text" else (article_id, title, text, kind)
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8"))
    return h.hexdigest()[:24]


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def split_text(text: str, chunk_size: int, chunk_overlap: int) -> list[str]:
    """Recursive character splitting on paragraph, line, sentence and word boundaries."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=min(chunk_overlap, max(0, chunk_size // 2)),
        separators=SEPARATORS,
        keep_separator="start",
        strip_whitespace=True,
    )
    return [c for c in splitter.split_text(text) if c.strip()]


def chunk_article(article: Article, chunk_size: int = 700, chunk_overlap: int = 100, views: bool = True) -> list[Chunk]:
    """Split one article into body chunks (``kind="text"``), plus one ``centroid`` view when ``views``.

    The centroid view stands for the whole article: its vector (made by the indexer) is the mean of
    the title's, the FAQ question's and the body chunks' vectors, which matches short customer
    questions better than any single passage. Identical pieces inside one article are kept once.
    """
    text = _clean(article.text)
    pieces = [text] if len(text) <= chunk_size else split_text(text, chunk_size, chunk_overlap)
    out: list[Chunk] = []
    seen: set[str] = set()
    for piece in pieces:
        piece = piece.lstrip("# ").strip() if piece.startswith("#") else piece.strip()
        cid = chunk_id(article.id, article.title, piece)
        if not piece or cid in seen:
            continue
        seen.add(cid)
        out.append(_make(article, cid, piece, len(out), "text"))
    if views and out:
        head = "\n".join(p for p in (_clean(article.title), _clean(article.question)) if p)
        body_ids = ",".join(c.id for c in out)
        out.append(
            _make(article, chunk_id(article.id, article.title, head + "\x1e" + body_ids, "centroid"), head, len(out), "centroid")
        )
    return out


def centroid_parts(chunk: Chunk) -> list[str]:
    """The texts embedded (next to the body chunks) to make a centroid view's vector: title, question."""
    return [p for p in chunk.text.split("\n") if p.strip()]


def _make(article: Article, cid: str, text: str, position: int, kind: str) -> Chunk:
    return Chunk(
        id=cid,
        article_id=article.id,
        title=article.title,
        text=text,
        kind=kind,
        position=position,
        language=article.language,
        url=article.url,
        tags=article.tags,
        translation_key=article.translation_key,
        category=article.category,
        source=article.source,
    )


def chunk_articles(articles: Iterable[Article], chunk_size: int = 700, chunk_overlap: int = 100) -> list[Chunk]:
    """Chunk many articles in order."""
    return [c for a in articles for c in chunk_article(a, chunk_size, chunk_overlap)]
