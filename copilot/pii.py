"""PII redaction with typed, consistent placeholders (``<EMAIL_1>``, ``<PHONE_2>``) that can be restored.

Used before summaries, remote prompts, logs and stored feedback: e-mails, phone numbers (Moroccan, French,
Spanish and international, found by Google's ``phonenumbers``), IBANs (mod-97 checked), payment cards (Luhn
checked), Moroccan CIN, French NIR (key checked), IP addresses, URLs carrying tokens, and person names.
No offline library finds names reliably in these languages (no NER model is obtainable here), so names are
found by rules: a capitalised name after a cue ("je m'appelle", "M.", "Dear", "me llamo", "smiti", "اسمي",
"السيدة" …); measured in ``benchmarks/pii.py``. Order numbers, amounts, dates and product codes are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_URL_TOKEN = re.compile(
    r"https?://[^\s<>\"']+[?&#](?:[\w-]*(?:token|key|sig|session|sid|auth|code|reset|otp)[\w-]*)=[^\s<>\"']+", re.I
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){10,30}\b")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_IPV4 = re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")
_IPV6 = re.compile(r"\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}\b", re.I)
_CIN = re.compile(r"\b[A-Z]{1,2}\d{5,6}\b")
_NIR = re.compile(r"\b([12])[ ]?(\d{2})[ ]?(\d{2})[ ]?(\d{2}|2[AB])[ ]?(\d{3})[ ]?(\d{3})[ ]?(\d{2})\b")
_NAME_WORD = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+(?:-[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+)?"
_PERSON_LATIN = re.compile(
    r"(?:\b(?i:je m'appelle|je suis|c'est|nom\s*:|name\s*:|M\.|Mme|Mlle|Madame|Monsieur|Mr\.?|Mrs\.?|Ms\.?|Dear|I'm|I am|"
    r"this is|my name is|me llamo|soy|Sr\.|Sra\.|Srta\.|señor|señora|smiti|ana|Si|Lalla|mon mari|ma femme|my neighbour|"
    r"my neighbor|my husband|my wife|mi vecina|mi vecino|mi marido|mi mujer|3tiw colis l)\s+)"
    r"(" + _NAME_WORD + r"(?:\s+(?:(?:El|Ben|Ait|Aït|de|del|la|van|von)\s+)?" + _NAME_WORD + r"){1,3})"
)
_PERSON_ARABIC = re.compile(
    r"(?:اسمي|سميتي|أنا|انا|السيد|السيدة|السي|للا|أخي|أختي|مراتي|لمراتي|راجلي|زوجي|زوجتي)\s+"
    r"((?:عبد\s+)?[\u0621-\u064a]{2,}(?:\s+(?:عبد\s+)?[\u0621-\u064a]{2,}){1,2})(?=\s*(?:[،,.:؛]|و|$|\s+(?:CIN|ورقم|الكارط|بريدي|يمكنكم|عيطو|تم|تسجلات|النمرة|الإيميل|على|في|من|بعد)))"
)
_NOT_NAMES = frozenset(
    [
        "Atlas",
        "Souk",
        "Express",
        "Fibre",
        "Mobile",
        "Box",
        "Pro",
        "Points",
        "Espace",
        "Mon",
        "Service",
        "Client",
        "Agent",
        "Madame",
        "Monsieur",
        "مقيم",
        "في",
        "من",
        "على",
        "بغيت",
        "أريد",
        "اريد",
        "كنت",
        "غادي",
        "هنا",
        "ساكن",
        "جاي",
        "عندي",
        "ماشي",
        "متأكد",
        "بخير",
        "زبون",
        "عميل",
    ]
)
REGIONS = ("MA", "FR", "ES", "GB", "US")


def iban_ok(s: str) -> bool:
    s = s.replace(" ", "").upper()
    if not 15 <= len(s) <= 34:
        return False
    digits = "".join(str(int(c, 36)) for c in s[4:] + s[:4])
    return int(digits) % 97 == 1


def nir_ok(m: re.Match[str]) -> bool:
    """French social security number: 13 digits (2A/2B for Corsica) + a key = 97 - (number mod 97)."""
    sex, yy, mm, dep, com, order, key = m.groups()
    dep_num = dep.replace("2A", "19").replace("2B", "18")
    if not (1 <= int(mm) <= 12 or 20 <= int(mm) <= 42 or 50 <= int(mm) <= 99):
        return False
    number = int(f"{sex}{yy}{mm}{dep_num}{com}{order}")
    return 97 - number % 97 == int(key)


def luhn_ok(s: str) -> bool:
    d = [int(c) for c in re.sub(r"\D", "", s)]
    if not 13 <= len(d) <= 19:
        return False
    total = 0
    for i, x in enumerate(reversed(d)):
        if i % 2:
            x *= 2
            if x > 9:
                x -= 9
        total += x
    return total % 10 == 0


@dataclass
class Redactor:
    """Replaces PII by typed placeholders, the same value always by the same placeholder."""

    mapping: dict[str, str] = field(default_factory=dict)  # placeholder -> original
    _by_value: dict[tuple[str, str], str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    def _placeholder(self, kind: str, value: str) -> str:
        key = (kind, re.sub(r"[\s.-]", "", value.lower()))
        if key not in self._by_value:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            ph = f"<{kind}_{self._counts[kind]}>"
            self._by_value[key] = ph
            self.mapping[ph] = value
        return self._by_value[key]

    def redact(self, text: str) -> str:
        spans: list[tuple[int, int, str]] = []

        def add(start: int, end: int, kind: str) -> None:
            if all(end <= s or start >= e for s, e, _ in spans):
                spans.append((start, end, kind))

        for m in _URL_TOKEN.finditer(text):
            add(m.start(), m.end(), "URL")
        for m in _EMAIL.finditer(text):
            add(m.start(), m.end(), "EMAIL")
        for m in _IBAN.finditer(text):
            if iban_ok(m.group(0)):
                add(m.start(), m.end(), "IBAN")
        iban_like = [(m.start(), m.end()) for m in _IBAN.finditer(text)]  # invalid IBANs stay, and are no cards
        for m in _CARD.finditer(text):
            if luhn_ok(m.group(0)) and not any(s <= m.start() and m.end() <= e for s, e in iban_like):
                add(m.start(), m.end(), "CARD")
        for m in _NIR.finditer(text):
            if nir_ok(m):
                add(m.start(), m.end(), "NIR")
        for m in _CIN.finditer(text):
            add(m.start(), m.end(), "CIN")
        for m in [*_PERSON_LATIN.finditer(text), *_PERSON_ARABIC.finditer(text)]:
            if not any(w in _NOT_NAMES for w in m.group(1).split()):
                add(m.start(1), m.end(1), "PERSON")
        for m in _IPV4.finditer(text):
            if not re.search(r"(?i)(version|firmware|v)\s*$", text[max(0, m.start() - 12) : m.start()]):
                add(m.start(), m.end(), "IP")
        for m in _IPV6.finditer(text):
            add(m.start(), m.end(), "IP")
        for start, end in _phones(text):
            add(start, end, "PHONE")
        placeholders = {(s, e): self._placeholder(k, text[s:e]) for s, e, k in sorted(spans)}  # numbered in reading order
        out = text
        for start, end, _ in sorted(spans, reverse=True):
            out = out[:start] + placeholders[(start, end)] + out[end:]
        return out

    def restore(self, text: str) -> str:
        """Put the original values back (for the agent's own view)."""
        return re.sub(r"<[A-Z]+_\d+>", lambda m: self.mapping.get(m.group(0), m.group(0)), text)


def _phones(text: str) -> list[tuple[int, int]]:
    try:
        import phonenumbers
    except ImportError:  # pragma: no cover - phonenumbers is a requirement
        return [(m.start(), m.end()) for m in re.finditer(r"(?:\+\d{2,3}[\s.-]?)?\(?0?\d(?:[\s.-]?\d{2}){4}\b", text)]
    found: list[tuple[int, int]] = []
    for region in REGIONS:
        national = region in ("MA", "FR", "ES")  # other countries only in international format (+44 …, +1 …)
        leniency = phonenumbers.Leniency.VALID if national else phonenumbers.Leniency.POSSIBLE
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
            if not national and not m.raw_string.startswith("+"):
                continue
            before = text[max(0, m.start - 2) : m.start]
            if re.search(r"[\w][-_/]?$", before) or len(re.sub(r"\D", "", m.raw_string)) < 9:
                continue  # part of an order number or code (SE-2026-123456), or too short to be a phone
            if all(m.end <= s or m.start >= e for s, e in found):
                found.append((m.start, m.end))
    return found


def redact(text: str) -> str:
    """Redact one text with fresh placeholders."""
    return Redactor().redact(text)
