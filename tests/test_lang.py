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
