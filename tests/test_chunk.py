from __future__ import annotations

from copilot.kb.chunk import chunk_article, chunk_id
from copilot.types import Article


def _art(text: str, **kw: str) -> Article:
    return Article(
        id=kw.get("id", "a1"), title=kw.get("title", "Titre"), text=text, language="fr", question=kw.get("question", "")
    )


def test_short_article_is_one_chunk_plus_centroid_view() -> None:
    chunks = chunk_article(_art("Un texte court.", question="Comment faire ?"))
    assert [c.kind for c in chunks] == ["text", "centroid"]
    assert chunks[0].text == "Un texte court."
    assert chunks[1].text == "Titre\nComment faire ?"
    assert chunk_article(_art("Un texte court."), views=False)[0].kind == "text"


def test_ids_are_content_hashes() -> None:
    a = chunk_article(_art("Même texte."))
    b = chunk_article(_art("Même texte."))
    c = chunk_article(_art("Autre texte."))
    assert [x.id for x in a] == [x.id for x in b]
    assert a[0].id != c[0].id
    assert a[0].id == chunk_id("a1", "Titre", "Même texte.")
    assert chunk_article(_art("Même texte.", id="a2"))[0].id != a[0].id


def test_long_article_is_split_on_boundaries_with_overlap() -> None:
    paras = [f"## Section {i}\n" + " ".join(f"phrase{i}-{j} est ici." for j in range(30)) for i in range(6)]
    chunks = [c for c in chunk_article(_art("\n\n".join(paras)), chunk_size=300, chunk_overlap=50) if c.kind == "text"]
    assert len(chunks) > 6
    assert all(len(c.text) <= 300 for c in chunks)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert not any(c.text.startswith("#") for c in chunks)
    assert len({c.id for c in chunks}) == len(chunks)


def test_arabic_text_is_split() -> None:
    text = " ".join(
        f"الخطوة {i}: يمكنك تغيير كلمة المرور من حسابك الشخصي في أي وقت، وذلك بالضغط على رابط إعادة التعيين." for i in range(20)
    )
    chunks = [c for c in chunk_article(_art(text), chunk_size=200, chunk_overlap=20) if c.kind == "text"]
    assert len(chunks) > 3 and all(len(c.text) <= 200 for c in chunks)


def test_duplicate_pieces_kept_once() -> None:
    text = "\n\n".join(["Paragraphe identique répété pour le test." * 3] * 4)
    chunks = [c for c in chunk_article(_art(text), chunk_size=150, chunk_overlap=0) if c.kind == "text"]
    assert len({c.id for c in chunks}) == len(chunks)
