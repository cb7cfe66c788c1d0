"""Darija support: the bundled lexicon, Arabizi -> Arabic-script transliteration and word-level glosses.

The lexicon (``resources/darija_lexicon.tsv``, written by hand for this project) maps each Darija
word to its Latin spellings and to French, MSA and English equivalents. Retrieval uses it to turn
a Darija query into variants the KB's languages can match: the Arabic-script form, a French
gloss and an MSA gloss.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from copilot.textnorm import ARABIC_CHARS, fold_arabic, fold_latin

LEXICON_PATH = Path(__file__).resolve().parent / "resources" / "darija_lexicon.tsv"
_TOKEN = re.compile(r"[^\W_]+|[\W_]+", re.UNICODE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_NGRAM = 3


@dataclass(frozen=True)
class LexEntry:
    """One lexicon row."""

    darija: str
    arabizi: tuple[str, ...]
    fr: tuple[str, ...]
    msa: tuple[str, ...]
    en: tuple[str, ...]


def _split(cell: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in cell.split("|") if p.strip())


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH) -> tuple[LexEntry, ...]:
    """Read the TSV lexicon (missing file -> empty lexicon; malformed lines are skipped)."""
    if not path.exists():
        return ()
    out: list[LexEntry] = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            darija = (row.get("darija") or "").strip()
            if not darija:
                continue
            out.append(
                LexEntry(
                    darija=darija,
                    arabizi=tuple(fold_latin(s) for s in _split(row.get("arabizi") or "")),
                    fr=_split(row.get("fr") or ""),
                    msa=_split(row.get("msa") or ""),
                    en=_split(row.get("en") or ""),
                )
            )
    return tuple(out)


@dataclass(frozen=True)
class _Maps:
    latin: dict[tuple[str, ...], LexEntry]
    arabic: dict[tuple[str, ...], LexEntry]
    msa: dict[tuple[str, ...], LexEntry]


@lru_cache(maxsize=4)
def _maps(path: Path = LEXICON_PATH) -> _Maps:
    latin: dict[tuple[str, ...], LexEntry] = {}
    arabic: dict[tuple[str, ...], LexEntry] = {}
    msa: dict[tuple[str, ...], LexEntry] = {}
    for e in load_lexicon(path):
        for m in e.msa:
            key_m = tuple(_WORD.findall(fold_arabic(m)))
            if key_m:
                msa.setdefault(key_m, e)
        key_ar = tuple(_WORD.findall(fold_arabic(e.darija)))
        if key_ar:
            arabic.setdefault(key_ar, e)
        for sp in e.arabizi:
            key = tuple(_WORD.findall(sp))
            if key:
                latin.setdefault(key, e)
    return _Maps(latin, arabic, msa)


def _lookup(words: list[str], i: int, table: dict[tuple[str, ...], LexEntry]) -> tuple[LexEntry | None, int]:
    """Longest lexicon match starting at word ``i`` (tries the bare word without a Darija article l-/el-)."""
    for n in range(min(MAX_NGRAM, len(words) - i), 0, -1):
        key = tuple(words[i : i + n])
        if key in table:
            return table[key], n
    w = words[i]
    for prefix in ("el", "l", "al", "ال", "ل"):
        if w.startswith(prefix) and len(w) - len(prefix) >= 3 and (w[len(prefix) :],) in table:
            return table[(w[len(prefix) :],)], 1
    if ARABIC_CHARS.match(w[:1]):
        for cand in _arabic_candidates(w):
            if (cand,) in table:
                return table[(cand,)], 1
    return None, 1


_AR_PREFIXES = ("وبال", "وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ف", "ل")
_AR_SUFFIXES = ("كم", "هم", "نا", "ها", "ات", "ي", "ك", "ه", "و")


def _arabic_candidates(word: str) -> list[str]:
    """Forms of an Arabic word without clitics (و/ب/ال... prefixes, possessive suffixes), longest first."""
    forms: list[str] = []
    stems = [word] + [word[len(p) :] for p in _AR_PREFIXES if word.startswith(p) and len(word) - len(p) >= 2]
    for st in stems:
        forms.append(st)
        forms.extend(st[: -len(x)] for x in _AR_SUFFIXES if st.endswith(x) and len(st) - len(x) >= 2)
        forms.append("ال" + st)
    return [f for f in dict.fromkeys(forms) if f != word]


def _looks_arabizi(word: str) -> bool:
    return bool(re.search(r"[a-z][2356789]|[2356789][a-z]", word))


def arabizi_to_arabic(text: str) -> str:
    """Write an Arabizi text in Arabic script: lexicon words first, then letter rules for words with
    Arabizi digits; other Latin words (French loanwords such as "facture") stay as they are."""
    maps = _maps()
    words = [w for w in _WORD.findall(fold_latin(text))]
    out: list[str] = []
    i = 0
    while i < len(words):
        entry, n = _lookup(words, i, maps.latin)
        if entry is not None:
            out.append(entry.darija)
        elif _looks_arabizi(words[i]):
            import arabizi

            out.append(arabizi.transliterate_word(words[i]))
        else:
            out.append(words[i])
        i += n
    return " ".join(out)


def gloss(text: str, target: str = "fr") -> str:
    """Word-by-word gloss of a Darija text (either script) into ``fr``, ``msa`` or ``en``.

    Words the lexicon does not know are kept, so French loanwords and names still match.
    """
    maps = _maps()
    arabic = sum(1 for c in text if ARABIC_CHARS.match(c)) > sum(1 for c in text if c.isascii() and c.isalpha())
    words = _WORD.findall(fold_arabic(text) if arabic else fold_latin(text))
    # Latin words in an Arabic-script text and vice versa are looked up in the other table too
    tables = (maps.arabic, maps.latin) if arabic else (maps.latin, maps.arabic)
    return _gloss_words(words, tables, target, _keep_darija_word)


def _keep_darija_word(word: str) -> str | None:
    """An unknown word of a Darija text: Arabizi-looking words are dropped, loanwords lose the article."""
    return None if _looks_arabizi(word) else _drop_darija_article(word)


def _gloss_words(
    words: list[str], tables: tuple[dict[tuple[str, ...], LexEntry], ...], target: str, keep: Callable[[str], str | None]
) -> str:
    """Replace each longest lexicon match (first table that has it) by its first ``target`` equivalent;
    ``keep`` decides what an unknown word becomes (``None`` drops it)."""
    out: list[str] = []
    i = 0
    while i < len(words):
        entry, n = None, 1
        for table in tables:
            entry, n = _lookup(words, i, table)
            if entry is not None:
                break
        if entry is not None:
            options = {"fr": entry.fr, "msa": entry.msa, "en": entry.en}[target]
            if options:
                out.append(options[0])
        else:
            kept = keep(words[i])
            if kept is not None:
                out.append(kept)
        i += n
    return " ".join(out)


_L_CONSONANT = re.compile(r"^(?:l|el)(?=[bcdfghjkmnpqrstvwxz][a-z]{2,}$)")


def _drop_darija_article(word: str) -> str:
    """``lcarte`` -> ``carte``, ``lmot`` -> ``mot``: Darija glues its article to French loanwords.

    French words almost never start with ``l`` + consonant, so the rule is safe on Latin text.
    """
    return _L_CONSONANT.sub("", word)


def gloss_msa(text: str, target: str = "fr") -> str:
    """Word-by-word gloss of an MSA text into French (or English) through the lexicon's MSA column.

    A rough lexical bridge for cross-lingual retrieval (MSA question, French KB); unknown words are kept.
    """
    maps = _maps()
    return _gloss_words(_WORD.findall(fold_arabic(text)), (maps.msa, maps.arabic), target, lambda w: w)


def coverage(text: str) -> float:
    """Share of the words of a Darija text that the lexicon knows (a measure of how good a gloss is)."""
    maps = _maps()
    arabic = any(ARABIC_CHARS.match(c) for c in text)
    words = _WORD.findall(fold_arabic(text) if arabic else fold_latin(text))
    if not words:
        return 0.0
    known = 0
    i = 0
    while i < len(words):
        entry, n = _lookup(words, i, maps.arabic if arabic else maps.latin)
        if entry is not None:
            known += n
        i += n
    return known / len(words)
