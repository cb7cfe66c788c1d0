from __future__ import annotations

import pytest

from copilot.lang import detect_language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Bonjour, ma facture est trop élevée ce mois-ci", "fr"),
        ("Hello, my internet connection keeps dropping since yesterday", "en"),
        ("Hola, quiero devolver un producto que compré la semana pasada", "es"),
        ("أريد تغيير كلمة المرور الخاصة بحسابي من فضلك", "ar"),
        ("هل يمكنني إلغاء الطلب قبل الشحن؟", "ar"),
        ("بغيت نبدل المودباس ديالي عافاك", "ary"),
        ("واش ممكن تعاوني، الكارط ديالي تبلوكات", "ary"),
        ("salam, bghit n3ref 3lach tl3at lfatura", "ary-Latn"),
        ("bghit nbdl lmot de passe", "ary-Latn"),
        ("wach momkin tbdli lia lcommande dyali", "ary-Latn"),
        ("ma facture dyali tl3at bzaf had chhar", "ary-Latn"),
        ("yallah nmchiw l agence ghedda", "ary-Latn"),
        ("Guten Tag, ich möchte meine Rechnung bezahlen", "de"),
        ("Bom dia, quero cancelar a minha assinatura de internet", "pt"),
    ],
)
def test_languages_and_darija(text: str, code: str) -> None:
    assert detect_language(text).code == code


def test_mixed_french_darija_is_reported() -> None:
    info = detect_language("salam, je veux savoir pourquoi lfatura dyali tl3at bzaf")
    assert info.code == "ary-Latn" and "fr" in info.mixed_with and info.is_darija


def test_empty_and_symbols_are_undetermined() -> None:
    for text in ("", "   ", "12345 !!! ???", "\u200b\u200f"):
        assert detect_language(text).code == "und"


def test_zero_width_and_controls_do_not_break_detection() -> None:
    assert detect_language("Bon\u200bjour, ma fac\u200dture est trop élevée\x07").code == "fr"


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeTel my contract ends on the 30th, can you remind me to cancel it please? thanks",
        "@SkylineAir flight delayed AGAIN!! 2nd time this week. Gate B7, still no updates https://t.co/xYz12AbC3q",
        "@NorthMobile Not happy with my S8+ and the O2 network today, calls keep dropping and I’m paying for 5gb",
        "@Brightbank You’re welcome. I’m still unhappy I won’t be able to use the card before the 23rd though. ^JR",
    ],
)
def test_english_social_media_messages_are_not_arabizi(text: str) -> None:
    """Handles, links, agent signatures, ordinals and product names hold digits inside words; they are not Arabizi."""
    assert detect_language(text).code == "en"


@pytest.mark.parametrize(
    "text",
    ["@ShopMa salam 3afak fin wslat lcommande dyali? 3 ayam w ana kantsna", "salam bghit n3ref ch7al taman dial l'abonnement"],
)
def test_arabizi_with_handles_is_still_arabizi(text: str) -> None:
    assert detect_language(text).code == "ary-Latn"
