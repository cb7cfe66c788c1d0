"""Pure text normalisation for lexical matching: Arabic and Latin folding, tokenising, stemming."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

ARABIC_CHARS = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_ARABIC_DIACRITICS = re.compile(r"[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]")  # harakat + tatweel
_ARABIC_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ة": "ه",
        "ى": "ي",
        "ؤ": "و",
        "ئ": "ي",
        "ڤ": "ف",
        "ڭ": "ك",
        "گ": "ك",
        "پ": "ب",
        "ی": "ي",
        "ک": "ك",
    }
)
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad]")
TOKEN = re.compile(r"[^\W_]+", re.UNICODE)

# Light stopword lists: function words that carry no topic (the KB languages plus Darija).
STOPWORDS: frozenset[str] = frozenset(
    [
        "le",
        "la",
        "les",
        "l",
        "un",
        "une",
        "des",
        "du",
        "de",
        "d",
        "au",
        "aux",
        "et",
        "ou",
        "mais",
        "donc",
        "or",
        "ni",
        "car",
        "a",
        "à",
        "en",
        "dans",
        "sur",
        "sous",
        "par",
        "pour",
        "avec",
        "sans",
        "ce",
        "cet",
        "cette",
        "ces",
        "se",
        "sa",
        "son",
        "ses",
        "mon",
        "ma",
        "mes",
        "ton",
        "ta",
        "tes",
        "notre",
        "nos",
        "votre",
        "vos",
        "leur",
        "leurs",
        "je",
        "j",
        "tu",
        "il",
        "elle",
        "on",
        "nous",
        "vous",
        "ils",
        "elles",
        "me",
        "m",
        "te",
        "t",
        "lui",
        "y",
        "qui",
        "que",
        "qu",
        "quoi",
        "dont",
        "ou",
        "est",
        "sont",
        "etre",
        "être",
        "ai",
        "as",
        "avons",
        "avez",
        "ont",
        "été",
        "fait",
        "faire",
        "peut",
        "peux",
        "pouvez",
        "plus",
        "moins",
        "tres",
        "très",
        "bien",
        "ne",
        "pas",
        "n",
        "s",
        "c",
        "ca",
        "ça",
        "si",
        "comme",
        "aussi",
        "tout",
        "tous",
        "toute",
        "toutes",
        "quel",
        "quelle",
        "quels",
        "quelles",
        "bonjour",
        "merci",
        "svp",
        "stp",
        "salut",
        "alors",
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "by",
        "at",
        "from",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "am",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "i",
        "you",
        "he",
        "she",
        "it",
        "we",
        "they",
        "me",
        "my",
        "your",
        "our",
        "their",
        "this",
        "that",
        "these",
        "those",
        "what",
        "which",
        "who",
        "how",
        "can",
        "could",
        "would",
        "should",
        "will",
        "please",
        "hi",
        "hello",
        "el",
        "la",
        "los",
        "las",
        "un",
        "una",
        "unos",
        "unas",
        "de",
        "del",
        "al",
        "y",
        "o",
        "pero",
        "en",
        "con",
        "por",
        "para",
        "sin",
        "es",
        "son",
        "fue",
        "ser",
        "estar",
        "está",
        "estoy",
        "he",
        "ha",
        "mi",
        "mis",
        "tu",
        "tus",
        "su",
        "sus",
        "nuestro",
        "que",
        "qué",
        "como",
        "cómo",
        "cuál",
        "muy",
        "más",
        "menos",
        "hola",
        "gracias",
        "por",
        "favor",
        "lo",
        "le",
        "les",
        "se",
        "me",
        "te",
        "nos",
        "في",
        "من",
        "إلى",
        "الى",
        "على",
        "عن",
        "مع",
        "هذا",
        "هذه",
        "ذلك",
        "تلك",
        "التي",
        "الذي",
        "الذين",
        "هل",
        "ما",
        "ماذا",
        "لماذا",
        "كيف",
        "متى",
        "أين",
        "اين",
        "أن",
        "ان",
        "إن",
        "لا",
        "لم",
        "لن",
        "قد",
        "كان",
        "كانت",
        "هو",
        "هي",
        "هم",
        "أنا",
        "انا",
        "نحن",
        "أنت",
        "انت",
        "و",
        "او",
        "أو",
        "ثم",
        "بعد",
        "قبل",
        "عند",
        "كل",
        "بعض",
        "غير",
        "شكرا",
        "مرحبا",
        "السلام",
        "عليكم",
        "من",
        "فضلك",
        "لو",
        "سمحت",
    ]
)


def fold_arabic(text: str) -> str:
    """Remove diacritics/tatweel and unify letter variants (alef, ta marbuta, alef maqsura, hamza seats)."""
    return _ARABIC_DIACRITICS.sub("", text).translate(_ARABIC_FOLD)


def fold_latin(text: str) -> str:
    """Lowercase and strip accents (é -> e) without touching Arabic letters."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c) or ARABIC_CHARS.match(c))


def clean(text: str) -> str:
    """Drop zero-width/bidi control characters and normalise Unicode to NFC (safe for display)."""
    text = _INVISIBLE.sub("", text)
    text = "".join(c if c in "\n\t" or unicodedata.category(c)[0] != "C" else " " for c in text)
    return unicodedata.normalize("NFC", text)


def normalize(text: str) -> str:
    """Fold a text for matching: Unicode cleaned, Arabic letters unified, Latin lowercased without accents."""
    return fold_latin(fold_arabic(clean(text)))


def is_arabic_script(text: str, threshold: float = 0.5) -> bool:
    """True when at least ``threshold`` of the letters are Arabic."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    return sum(1 for c in letters if ARABIC_CHARS.match(c)) / len(letters) >= threshold


_LANG_STEMMER = {"fr": "french", "es": "spanish", "en": "english", "ar": "arabic"}


@lru_cache(maxsize=8)
def _stemmer(lang: str) -> Any:
    import Stemmer

    return Stemmer.Stemmer(_LANG_STEMMER[lang])


_ARABIC_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")


def _arabic_light_stem(token: str) -> str:
    """Strip the article and attached conjunction/preposition (light10-style), keeping >= 3 letters."""
    for p in _ARABIC_PREFIXES:
        if token.startswith(p) and len(token) - len(p) >= 3:
            token = token[len(p) :]
            break
    else:
        if len(token) >= 5 and token[0] in "وفبل" and token[1:3] == "ال":
            token = token[3:]
    for s in ("ها", "ات", "ان", "ين", "ون", "يه", "ه", "ي"):
        if token.endswith(s) and len(token) - len(s) >= 3:
            return token[: -len(s)]
    return token


def tokens(text: str, lang: str = "") -> list[str]:
    """Normalised, stopword-free, stemmed tokens.

    Arabic-script words get a light prefix/suffix stemmer (it suits MSA and Darija alike); Latin words
    are stemmed with the Snowball stemmer of ``lang`` (fr/es/en) when known, else left whole.
    """
    out: list[str] = []
    latin_stem = _stemmer(lang) if lang in ("fr", "es", "en") else None
    for tok in TOKEN.findall(normalize(text)):
        if tok in STOPWORDS or (len(tok) < 2 and not tok.isdigit()):
            continue
        if ARABIC_CHARS.match(tok[0]):
            out.append(_arabic_light_stem(tok))
        elif latin_stem is not None and not tok.isdigit():
            out.append(latin_stem.stemWord(tok))
        else:
            out.append(tok)
    return out
