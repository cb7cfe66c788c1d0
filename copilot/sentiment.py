"""Customer sentiment from a small hand-written multilingual lexicon (fr, ar, Darija in both scripts, es, en).

Rules, not a model: counts of negative and positive cue words and emojis, with intensifiers
("!!", capitals). Good enough for a badge and for "how did the conversation start and end"; it is
measured, not assumed (see benchmarks/summaries.py).
"""

from __future__ import annotations

import re

from copilot.textnorm import fold_arabic, fold_latin

NEGATIVE = {
    # fr
    "probleme",
    "panne",
    "marre",
    "inadmissible",
    "inacceptable",
    "honte",
    "nul",
    "nulle",
    "arnaque",
    "colere",
    "furieux",
    "furieuse",
    "decu",
    "decue",
    "deception",
    "toujours pas",
    "jamais",
    "scandale",
    "lamentable",
    "catastrophe",
    "plainte",
    "reclamation",
    "resilier",
    "rembourser",
    "retard",
    "casse",
    "bloque",
    "impossible",
    # en
    "problem",
    "issue",
    "broken",
    "angry",
    "terrible",
    "awful",
    "worst",
    "ridiculous",
    "unacceptable",
    "disappointed",
    "frustrated",
    "frustrating",
    "annoyed",
    "useless",
    "scam",
    "still not",
    "never",
    "refund",
    "cancel",
    "complaint",
    "not working",
    "doesnt work",
    "doesn't work",
    "fail",
    "failed",
    "wrong",
    "late",
    "delay",
    "delayed",
    "hate",
    # es
    "problema",
    "averia",
    "fatal",
    "horrible",
    "inaceptable",
    "enfadado",
    "enfadada",
    "harto",
    "harta",
    "queja",
    "reclamacion",
    "estafa",
    "roto",
    "todavia no",
    "nunca",
    "decepcionado",
    "decepcionada",
    # Darija (Latin)
    "mochkil",
    "mouchkil",
    "machakil",
    "khayb",
    "khayba",
    "3iyit",
    "3yit",
    "m9le9",
    "mkle9",
    "ma5damch",
    "makhdamch",
    "hchouma",
    "7chouma",
    "nsab",
    "chfar",
    "tl3at",
    # MSA / Darija (Arabic script, folded)
    "مشكل",
    "مشكله",
    "عطل",
    "سيء",
    "سيئ",
    "غاضب",
    "مستاء",
    "احتيال",
    "شكوي",
    "تاخير",
    "لا يعمل",
    "ماخدامش",
    "عييت",
    "مقلق",
    "حشومه",
    "نصب",
    "خايب",
}
POSITIVE = {
    "merci",
    "parfait",
    "super",
    "genial",
    "excellent",
    "top",
    "resolu",
    "content",
    "contente",
    "satisfait",
    "bravo",
    "thanks",
    "thank",
    "great",
    "perfect",
    "awesome",
    "resolved",
    "fixed",
    "works now",
    "happy",
    "appreciate",
    "love",
    "gracias",
    "perfecto",
    "resuelto",
    "estupendo",
    "encantado",
    "chokran",
    "choukran",
    "chokrane",
    "barak",
    "baraka",
    "mzyan",
    "mezyan",
    "zwin",
    "hamdolah",
    "hamdullah",
    "شكرا",
    "ممتاز",
    "رائع",
    "تم الحل",
    "مزيان",
    "زوين",
    "الحمد لله",
    "بارك الله",
}
_NEG_EMOJI = re.compile("[\U0001f620-\U0001f62b\U0001f61e\U0001f61f\U0001f624\U0001f621\U0001f92c\U0001f44e\U0001f494]")
_POS_EMOJI = re.compile("[\U0001f600-\U0001f60d\U0001f642\U0001f44d\u2764\U0001f64f\U0001f917]")


def sentiment_score(text: str) -> float:
    """A score in [-1, 1]: below -0.15 negative, above 0.15 positive."""
    low = " " + fold_latin(fold_arabic(text.lower())) + " "
    words = set(re.findall(r"[\w']+", low))
    neg = sum(1 for w in NEGATIVE if (" " in w and w in low) or w in words)
    pos = sum(1 for w in POSITIVE if (" " in w and w in low) or w in words)
    neg += len(_NEG_EMOJI.findall(text)) + (1 if "!!" in text or "؟؟" in text or "??" in text else 0)
    letters = [c for c in text if c.isalpha() and c.isascii()]
    if len(letters) > 12 and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        neg += 1
    pos += len(_POS_EMOJI.findall(text))
    total = neg + pos
    return 0.0 if total == 0 else (pos - neg) / total


def sentiment_label(text: str) -> str:
    """``negative``, ``neutral`` or ``positive``."""
    s = sentiment_score(text)
    return "negative" if s < -0.15 else "positive" if s > 0.15 else "neutral"
