"""Property-based tests over the pure core: arbitrary Unicode never crashes it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from copilot.darija import arabizi_to_arabic, gloss
from copilot.kb.chunk import chunk_article
from copilot.lang import detect_language
from copilot.retrieve import plan_query
from copilot.textnorm import normalize, tokens
from copilot.types import Article

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400)


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_normalisation_and_tokens_total(text: str) -> None:
    n = normalize(text)
    assert normalize(n) == n or len(normalize(n)) <= len(n) + 2
    for lang in ("", "fr", "en", "es", "ar"):
        assert all(isinstance(t, str) and t for t in tokens(text, lang))


@settings(max_examples=100, deadline=None)
@given(TEXT)
def test_language_and_darija_helpers_total(text: str) -> None:
    info = detect_language(text)
    assert info.code and 0.0 <= info.confidence <= 1.0
    assert isinstance(arabizi_to_arabic(text), str)
    assert isinstance(gloss(text, "fr"), str) and isinstance(gloss(text, "msa"), str)
    if text.strip():
        plan = plan_query(text)
        assert plan.variants and plan.variants[0] == text


@settings(max_examples=60, deadline=None)
@given(TEXT, st.integers(min_value=50, max_value=400))
def test_chunks_bounded_and_stable(text: str, size: int) -> None:
    art = Article(id="a", title="T", text=text)
    first = chunk_article(art, size, size // 5)
    again = chunk_article(art, size, size // 5)
    assert [c.id for c in first] == [c.id for c in again]
    body = [c for c in first if c.kind == "text"]
    assert all(len(c.text) <= size for c in body)
    assert len({c.id for c in first}) == len(first)
