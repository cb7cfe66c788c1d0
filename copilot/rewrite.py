"""Rewrite a draft (shorter, longer, formal, friendly, empathetic) or translate a text.

The configured generator is tried first; its text is kept only when it passes the same kind of
checks as a draft (citations intact, right language, no number that was not there, length moving
the right way). Otherwise a deterministic fallback answers and says what it did:
- styles: the draft's greeting/closing swapped for the style's, an empathy sentence added, or the
  least important sentences dropped — never new facts;
- translation: a cited draft is rebuilt from the *translations of its cited articles* in the target
  language (grounded, exact); a Darija message is glossed word by word into French, English or MSA
  with the project's lexicon; otherwise the result says no offline translation is available.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from copilot.generators import GenerationParams, Prompt, run_generation
from copilot.reply import _CITE, looks_like_instruction, one_line, unsupported_facts
from copilot.templates import ACCEPTED, STYLES, WORDING, style_name, wording

if TYPE_CHECKING:
    from copilot.generators import Generator
    from copilot.types import LanguageInfo

TARGETS = {
    "fr": "fr",
    "french": "fr",
    "ar": "ar",
    "msa": "ar",
    "arabic": "ar",
    "es": "es",
    "spanish": "es",
    "en": "en",
    "english": "en",
}


@dataclass
class RewriteResult:
    text: str
    path: str
    language: str
    model: str = ""
    note: str = ""
    rejected: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "path": self.path,
            "language": self.language,
            "model": self.model,
            "note": self.note,
            "rejected": self.rejected,
            "timings": {k: round(v, 1) for k, v in self.timings.items()},
        }


# ---------------------------------------------------------------------------------------------- pure helpers
def citations_in(text: str) -> list[str]:
    return sorted({f"[{x}]" for m in _CITE.finditer(text) for x in re.findall(r"\d+", m.group(0))})


def split_draft(text: str) -> tuple[str, list[str], str]:
    """(greeting, body paragraphs, closing) of a draft laid out by the drafter (or typed by an agent)."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    greetings = {w for wd in WORDING.values() for w in (wd.greeting, wd.formal_greeting, wd.friendly_greeting)}
    closings = {w for wd in WORDING.values() for w in (wd.closing, wd.formal_closing, wd.friendly_closing)}
    greeting = closing = ""
    if paras and (paras[0] in greetings or (len(paras[0]) < 40 and paras[0].endswith((",", "،", ":", "!")) and len(paras) > 1)):
        greeting = paras.pop(0)
    if paras and (paras[-1] in closings or (len(paras) > 1 and not _CITE.search(paras[-1]) and len(paras[-1]) < 140)):
        closing = paras.pop()
    return greeting, paras, closing


def _sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?؟])\s+(?=\S)", paragraph) if s.strip()]


def rule_rewrite(text: str, style: str, language: str) -> str:
    """Deterministic rewrite that adds no fact."""
    w = wording(language)
    greeting, body, closing = split_draft(text)
    greeting = greeting or w.greeting
    if style == "shorter":
        sents = [s for p in body for s in _sentences(p.replace(w.lead, "").strip())]
        cited = [s for s in sents if _CITE.search(s)]
        keep = cited[:2] or sents[:1]
        budget = max(1, (len(sents) + 1) // 2)
        for s in sents:
            if len(keep) >= budget:
                break
            if s not in keep:
                keep.append(s)
        keep = [s for s in sents if s in keep]
        short = " ".join(keep)
        if not _CITE.search(short):
            short += " " + " ".join(citations_in(text))
        return f"{greeting}\n\n{short.strip()}"
    if style == "longer":
        return "\n\n".join([greeting, *body, w.more_help, closing or w.closing])
    if style == "formal":
        return "\n\n".join([w.formal_greeting, *body, w.formal_closing])
    if style == "friendly":
        return "\n\n".join([w.friendly_greeting, *body, w.friendly_closing])
    if style == "empathetic":
        return "\n\n".join([greeting, w.empathy, *body, closing or w.closing])
    raise ValueError(f"unknown style '{style}'")


def check_rewrite(
    original: str,
    new: str,
    *,
    language: str,
    style: str | None,
    allowed: Sequence[str],
    detect: Callable[[str], LanguageInfo],
) -> list[str]:
    """Reasons to reject a generated rewrite or translation (empty when it is fine)."""
    reasons: list[str] = []
    body = _CITE.sub(" ", new).strip()
    if len(body) < 15:
        reasons.append("too short")
    if citations_in(new) != citations_in(original):
        reasons.append(
            f"citations changed ({' '.join(citations_in(original)) or 'none'} -> {' '.join(citations_in(new)) or 'none'})"
        )
    if len(body) >= 15 and detect(body).code not in ACCEPTED.get(language, {language}):
        reasons.append(f"not in {language}")
    bad = unsupported_facts(new, [original, *allowed])
    if bad:
        reasons.append("new facts: " + ", ".join(bad[:5]))
    if style == "shorter" and len(new) >= len(original):
        reasons.append("not shorter")
    if style == "longer" and len(new) <= len(original):
        reasons.append("not longer")
    if any(looks_like_instruction(s) for s in _sentences(new)):
        reasons.append("contains an instruction")
    if len(new) > 3 * len(original) + 400:
        reasons.append("too long")
    return reasons


# ---------------------------------------------------------------------------------------------- prompts
def rewrite_prompt(text: str, style: str, language: str) -> Prompt:
    """The rewrite prompt (also used to render the tuning data)."""
    style = style_name(style)
    key = "ar" if language in ("ar", "ary") else language
    w = wording(language)
    task = w.rewrite_task.format(style=STYLES[style].get(key, STYLES[style]["en"]))
    return Prompt(system=task, user=f"{w.answer}: {one_line(text)}\n\n{task}\n\n{w.answer}:", prefix="")


def translate_prompt(text: str, target: str) -> Prompt:
    """The translation prompt (also used to render the tuning data)."""
    w = wording(target)
    return Prompt(system=w.translate_task, user=f"{one_line(text)}\n\n{w.translate_task}\n\n{w.answer}:", prefix="")


# ---------------------------------------------------------------------------------------------- with a generator
def _generate(
    generator: Generator | None, prompt: Prompt, language: str, max_new_tokens: int
) -> tuple[str, str, dict[str, float]]:
    if generator is None:
        return "", "", {}
    stops = ("\n\n\n", "###", wording(language).customer)
    gen = run_generation(generator, prompt, GenerationParams(max_new_tokens=max_new_tokens, stop=stops))
    return gen.text.strip(), gen.model, {"first_token_ms": gen.first_token_ms, "generation_ms": gen.generation_ms}


def rewrite(
    text: str,
    style: str,
    *,
    language: str,
    generator: Generator | None,
    detect: Callable[[str], LanguageInfo],
    sources: Sequence[str] = (),
    max_new_tokens: int = 200,
) -> RewriteResult:
    """Rewrite ``text`` (written in reply language ``language``) in a style, keeping its citations."""
    style = style_name(style)
    if style not in STYLES:
        raise ValueError(f"unknown style '{style}'; choose one of: {', '.join(STYLES)}")
    rejected: list[str] = []
    model = ""
    timings: dict[str, float] = {}
    if generator is not None:
        out, model, timings = _generate(generator, rewrite_prompt(text, style, language), language, max_new_tokens)
        rejected = check_rewrite(text, out, language=language, style=style, allowed=sources, detect=detect)
        if not rejected:
            return RewriteResult(out, "generated", language, model, "", [], timings)
    new = rule_rewrite(text, style, language)
    note = "rule-based rewrite (greeting, closing and sentence choice; no new facts)"
    return RewriteResult(new, "rules", language, model or "rules", note, rejected, timings)


def translate_with_generator(
    text: str,
    target: str,
    *,
    generator: Generator | None,
    detect: Callable[[str], LanguageInfo],
    sources: Sequence[str] = (),
    max_new_tokens: int = 240,
) -> tuple[RewriteResult | None, list[str]]:
    """The generator's translation when it passes the checks (else ``None``), and the reasons it did not."""
    if generator is None:
        return None, []
    out, model, timings = _generate(generator, translate_prompt(text, target), target, max_new_tokens)
    reasons = check_rewrite(text, out, language=target, style=None, allowed=sources, detect=detect)
    if reasons:
        return None, reasons
    return RewriteResult(out, "generated", target, model, "", [], timings), []


def normalize_target(target: str) -> str:
    t = TARGETS.get(target.strip().lower())
    if t is None:
        raise ValueError(f"unknown target language '{target}'; choose fr, ar, es or en")
    return t
