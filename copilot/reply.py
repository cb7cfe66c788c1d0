"""Grounded reply drafting: prompt with numbered sources, generate, validate, or fall back to a
retrieval-first (extractive) draft.

The pure functions at the top (sentence selection, prompt building, citation repair, fact and
language checks) hold the rules; :class:`Drafter` wires them to the retriever and the generator.
A 270M base model writes weak text, so every draft has a correct extractive twin (the best
passage's most relevant sentences between a greeting and a closing, cited ``[1]``) and the
generated text is only chosen when it passes every check.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from copilot.generators import Generation, GenerationParams, Prompt, run_generation
from copilot.templates import ACCEPTED, KB_LANGUAGE, reply_language, wording

if TYPE_CHECKING:
    from copilot.config import Settings
    from copilot.generators import Generator
    from copilot.retrieve import Retriever
    from copilot.types import Chunk, Hit, LanguageInfo, SearchResult

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------- types
@dataclass(frozen=True)
class Citation:
    """A numbered source shown with a draft."""

    n: int
    article_id: str
    title: str
    url: str = ""
    language: str = ""
    chunk_id: str = ""
    text: str = ""

    def to_dict(self, with_text: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {"n": self.n, "article_id": self.article_id, "title": self.title}
        if self.url:
            d["url"] = self.url
        if self.language:
            d["language"] = self.language
        if with_text:
            d["text"] = self.text
        return d


@dataclass
class Draft:
    """A draft reply for the agent (never sent to the customer by the copilot itself)."""

    reply: str
    language: str
    reply_language: str
    citations: list[Citation]
    no_match: bool
    path: str
    model: str
    timings: dict[str, float]
    confidence: float = 0.0
    extractive_reply: str = ""
    generated_reply: str | None = None
    rejected: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    id: str | None = None

    def to_dict(self, *, verbose: bool = False) -> dict[str, Any]:
        """The ``copilot reply`` contract; ``verbose`` adds the alternatives and the checks."""
        d: dict[str, Any] = {
            "language": self.language,
            "reply": self.reply,
            "citations": [c.to_dict() for c in self.citations],
            "no_match": self.no_match,
            "path": self.path,
            "model": self.model,
            "timings": {k: round(v, 1) if isinstance(v, float) else v for k, v in self.timings.items()},
            "reply_language": self.reply_language,
            "confidence": round(self.confidence, 4),
        }
        if self.id is not None:
            d = {"id": self.id, **d}
        if self.warnings:
            d["warnings"] = list(self.warnings)
        if verbose:
            d["extractive_reply"] = self.extractive_reply
            d["generated_reply"] = self.generated_reply
            d["rejected"] = list(self.rejected)
        return d


@dataclass(frozen=True)
class Validation:
    ok: bool
    text: str
    cited: tuple[int, ...]
    reasons: tuple[str, ...]


# ---------------------------------------------------------------------------------------------- input
_ZERO_WIDTH = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAGS = re.compile(r"<[^>\n]{1,200}>")


def sanitize(text: str) -> str:
    """Data going into a prompt: no zero-width/bidi controls, no HTML comments or tags, no control chars."""
    text = unicodedata.normalize("NFC", text)
    text = _HTML_COMMENT.sub(" ", text)
    text = _TAGS.sub(" ", text)
    text = _ZERO_WIDTH.sub("", text)
    text = "".join(c if c in "\n\t" or unicodedata.category(c)[0] != "C" else " " for c in text)
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n\s*\n+", "\n", text).strip()


def conversation_query(turns: Sequence[dict[str, Any]]) -> tuple[str, str]:
    """(what to answer, earlier context) from conversation turns.

    The question is the customer's turns after the last agent turn (or the last customer turn);
    a short follow-up ("and for Rabat?") also takes the previous customer turn.

    Raises:
        ValueError: When no turn has customer text.
    """
    rows = [(str(t.get("speaker", "customer")).lower(), str(t.get("text", "")).strip()) for t in turns if isinstance(t, dict)]
    rows = [(s, t) for s, t in rows if t]
    last_agent = max((i for i, (s, _) in enumerate(rows) if s == "agent"), default=-1)
    tail = [t for s, t in rows[last_agent + 1 :] if s != "agent"]
    if not tail:
        tail = [t for s, t in rows if s != "agent"][-1:]
    if not tail:
        raise ValueError("the conversation has no customer turn with text")
    question = " ".join(tail)
    before = rows[: last_agent + 1]
    if len(question) < 40:
        earlier = [t for s, t in before if s != "agent"]
        if earlier:
            question = f"{earlier[-1]} {question}"
    context = "\n".join(f"{'Agent' if s == 'agent' else 'Client'}: {t}" for s, t in before[-4:])
    return question, context


# ---------------------------------------------------------------------------------------------- sentences
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_SENT_END = re.compile(r"(?<=[.!?؟…])\s+(?=\S)")


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of a (Markdown) passage; headings, questions and table rules dropped.

    A line ending with ``:`` (a label such as "Si la nouvelle adresse n'est pas éligible :") is joined
    to the item that follows, so a picked sentence never loses its condition.
    """
    return [s for _, s in split_sections(text)]


def split_sections(text: str) -> list[tuple[str, str]]:
    """(section heading, sentence) pairs: the heading says what a list item is about."""
    lines: list[tuple[str, str]] = []
    heading = ""
    carry = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or set(line) <= set("|-: "):
            continue
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
            continue
        line = _BULLET.sub("", line)
        line = line.replace("**", "").replace("__", "").strip("| ")
        line = re.sub(r"\s*\|\s*", " — ", line)
        if carry:
            line = f"{carry} {line}"
            carry = ""
        if line.endswith(":") and len(line) < 160:
            carry = line
            continue
        lines.append((heading, line))
    if carry:
        lines.append((heading, carry))
    out: list[tuple[str, str]] = []
    for head, line in lines:
        for s in _SENT_END.split(line):
            s = s.strip()
            if len(s) >= 12 and not s.endswith(("?", "؟", ":")) and not looks_like_instruction(s):
                out.append((head, s))
    return out


_INSTRUCTION = re.compile(
    r"(ignore[rz]?|oublie[rz]?|disregard|ignora|تجاهل|انس|nsa|ns?aw)\b.{0,60}\b(instruction|consigne|r[eè]gle|"
    r"rule|prompt|previous|pr[ée]c[ée]dent|anterior|السابقة|التعليمات|dyal)"
    r"|\b(system prompt|prompt syst[eè]me|you are now|tu es maintenant|act as|jailbreak|(?-i:DAN))\b"
    r"|\b(assistant|ai|ia|model|mod[eè]le|chatbot|copilot)\b.{0,40}\b(must|doit|should|debe|يجب)\b"
    r"|\b(note|nota|instructions?|message|consigne)s?\s+(pour|to|for|para|à)\s+(l'|the|el|la|le)?\s*"
    r"(assistant|ia|ai|bot|robot|model|mod[eè]le|modelo|asistente|chatbot|llm)"
    r"|\b(assistant|ia|ai|bot|robot|chatbot|llm|gpt|asistente|copilot)\s*:"
    r"|(ملاحظة|توجيه|تعليمات|رسالة|تنبيه)\s+(لل|ل|إلى\s+ال)?(روبو|مساعد|بوت|نموذج|ذكاء|آلة|نظام)"
    r"|\b(when answering|in your (reply|answer|response)|from your (context|prompt|instructions|memory)|"
    r"dans (ta|votre) r[ée]ponse|en r[ée]pondant|de (ton|votre) contexte|en (tu|su) respuesta|al responder)\b"
    r"|(في ردك|عند الرد|في جوابك|من سياقك)"
    r"|(المساعد|الروبو|البوت|النموذج)\s*:",
    re.I,
)


def looks_like_instruction(sentence: str) -> bool:
    """True for text that addresses an AI model rather than a customer (kept out of drafts and prompts)."""
    return bool(_INSTRUCTION.search(sentence))


#: A question that asks for a quantity, a duration, a date or a time ("combien de temps", "how long", "cuánto",
#: "كم", "شحال", "ch7al"): its answer sentence almost always holds a number.
ASKS_QUANTITY = re.compile(
    r"\b(?:combien|quand|quel(?:le)?s? (?:heure|âge|age|niveau)|d[ée]lai|dur[ée]e|montant|prix|tarif|co[uû]t\w*|plafond|"
    r"minimum|maximum|limite|"
    r"how (?:long|much|many|old|soon|often|fast|far)|when|what time|price|cost|amount|limit|"
    r"cu[aá]nt[oa]s?|cu[aá]ndo|qu[eé] hora|plazo|precio|cuesta|importe|tope|l[ií]mite|m[ií]nimo|m[aá]ximo|"
    r"ch7al|chhal|che7al|fo9ach|foqach|imta)\b"
    r"|(?<![\u0600-\u06ff])(?:ب?كم|متى|مدة|شحال|بشحال|فوقاش|إمتى|امتى|قديش|سعر|ثمن|مبلغ|الحد)(?![\u0600-\u06ff])",
    re.I,
)
#: Added to the score of a sentence with a number when the question asks for a quantity. Measured on the sample KB's
#: and XQuAD's right-article drafts (264): the answer is among the 3 chosen sentences in 229 instead of 216, none lost.
QUANTITY_BOOST = 0.15
_DIGIT = re.compile(r"[0-9٠-٩]")


def pick_sentences(scores: Sequence[float], sentences: Sequence[str], k: int, max_chars: int = 480) -> list[str]:
    """The ``k`` best-scoring sentences (within ``max_chars``), in their original order."""
    order = sorted(range(len(sentences)), key=lambda i: -scores[i])
    chosen: list[int] = []
    total = 0
    for i in order:
        if len(chosen) >= k:
            break
        if chosen and total + len(sentences[i]) > max_chars:
            continue
        chosen.append(i)
        total += len(sentences[i])
    return [sentences[i] for i in sorted(chosen)]


def prompt_view(scores: Sequence[float], sentences: Sequence[str], k: int, order: str = "article") -> list[str]:
    """The sentences of a passage the generator sees: the ``k`` best, as written (``article``) or best first (``score``)."""
    chosen = pick_sentences(scores, sentences, k)
    if order == "score":
        rank = {s: -scores[i] for i, s in enumerate(sentences)}
        chosen = sorted(chosen, key=lambda s: rank.get(s, 0.0))
    return chosen


def extractive_reply(language: str, sentences: Sequence[str], n: int = 1) -> str:
    """Greeting, lead-in, the chosen sentences cited ``[n]``, closing."""
    w = wording(language)
    body = " ".join(s if s.endswith((".", "!", "?", "؟", ":", "…")) else s + "." for s in sentences)
    return f"{w.greeting}\n\n{w.lead} {body} [{n}]\n\n{w.closing}"


def with_closing(generated: str, language: str) -> str:
    """Lay a one-paragraph generated answer out like the extractive draft: greeting, body, closing."""
    w = wording(language)
    body = generated.strip()
    if body.startswith(w.greeting):
        body = body[len(w.greeting) :].strip()
        if body[:1].islower() and language in ("fr", "es", "en"):
            body = body[0].upper() + body[1:]
    return f"{w.greeting}\n\n{body}\n\n{w.closing}"


def holding_reply(language: str) -> str:
    w = wording(language)
    return f"{w.greeting}\n\n{w.holding}"


# ---------------------------------------------------------------------------------------------- prompt
def build_prompt(language: str, sources: Sequence[tuple[str, str]], message: str, context: str = "", shots: int = 1) -> Prompt:
    """A completion prompt: a worked example, the numbered sources, the message; the greeting starts the answer.

    Args:
        language: Reply language (``fr``, ``ar``, ``ary``, ``es``, ``en``).
        sources: (title, text) per source, numbered from 1.
        message: The customer's message.
        context: Earlier turns of the conversation, if any.
        shots: 1 shows the worked example (a base model learns the format from it); 0 leaves it out (the tuned
            model learned the format, and the prompt is a third shorter).
    """
    w = wording(language)
    blocks = []
    ex_title, ex_text, ex_question, ex_answer = w.example
    if ex_title and shots > 0:
        blocks.append(
            f"{w.source} [1] — {ex_title}\n{ex_text}\n\n{w.customer}: {ex_question}\n\n{w.answer}: {w.greeting} {ex_answer}"
        )
    parts = [f"{w.source} [{n}] — {one_line(title)}\n{sanitize(text)}" for n, (title, text) in enumerate(sources, 1)]
    task = "\n\n".join(parts)
    if context:
        task += f"\n\n{w.conversation}:\n{sanitize(context)[-600:]}"
    task += f"\n\n{w.customer}: {one_line(message)[:1500]}\n\n{w.answer}:"
    blocks.append(task)
    return Prompt(system=w.task, user="\n\n###\n\n".join(blocks), prefix=w.greeting + " ")


def reply_shots(generator: object, settings: Settings) -> int:
    """Worked examples the reply prompt shows: ``settings.prompt_shots``, or what the generator says it needs
    (none for the tuned embedded model, one for any other model)."""
    if settings.prompt_shots >= 0:
        return settings.prompt_shots
    return int(getattr(generator, "prompt_shots", 1))


def one_line(text: str) -> str:
    """Sanitised text on a single line (customer text cannot fake the prompt's structure)."""
    return " ".join(sanitize(text).split())


def stop_strings(language: str) -> tuple[str, ...]:
    w = wording(language)
    return ("\n", f"{w.customer}", f"{w.source} [", f"{w.answer}", "###", "<end_of_turn>")


# ---------------------------------------------------------------------------------------------- checks
_CITE = re.compile(
    r"\[\s*(?:source|fuente|المصدر|réf\.?|ref\.?)?\s*(\d{1,3}(?:\s*[,;،]\s*\d{1,3})*)\s*\]"
    r"|【\s*(\d{1,3})\s*】"
    r"|\(\s*(?:source|fuente|المصدر)\s*(\d{1,3})\s*\)",
    re.I,
)


def repair_citations(text: str, n_sources: int) -> tuple[str, list[int], list[str]]:
    """Normalise citations to ``[n]`` and drop those that point at no shown source.

    Returns:
        (text, cited source numbers in order of first use, dropped citation strings)
    """
    cited: list[int] = []
    dropped: list[str] = []

    def sub(m: re.Match[str]) -> str:
        nums = [int(x) for x in re.split(r"\s*[,;،]\s*", next(g for g in m.groups() if g))]
        good = [x for x in nums if 1 <= x <= n_sources]
        if len(good) < len(nums):
            dropped.append(m.group(0))
        for x in good:
            if x not in cited:
                cited.append(x)
        return "".join(f"[{x}]" for x in good)

    out = _CITE.sub(sub, text)
    out = re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", out))
    return out.strip(), cited, dropped


_NUMBER = re.compile(r"\d(?:[\d]|[ .,'’:/-](?=\d{1,3}\b)|\u202f(?=\d))*")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:example|com|ma|fr|es|org|net)\b", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def numbers(text: str) -> set[str]:
    """Numbers in a text as digit strings ("5 000" and "5000" are the same number); citations excluded."""
    text = _CITE.sub(" ", text.translate(_ARABIC_DIGITS))
    found: set[str] = set()
    for m in _NUMBER.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if digits:
            found.add(digits.lstrip("0") or "0")
            for run in re.findall(r"\d+", m.group(0)):
                found.add(run.lstrip("0") or "0")
    return found


def unsupported_facts(reply: str, allowed: Sequence[str]) -> list[str]:
    """Numbers, URLs and e-mail addresses in ``reply`` that appear in none of the ``allowed`` texts."""
    pool = " \n ".join(allowed)
    pool_numbers = numbers(pool)
    pool_low = pool.lower()
    bad: list[str] = []
    for m in _NUMBER.finditer(_CITE.sub(" ", reply.translate(_ARABIC_DIGITS))):
        digits = re.sub(r"\D", "", m.group(0)).lstrip("0") or "0"
        if digits not in pool_numbers:
            bad.append(m.group(0).strip())
    for m in _EMAIL.finditer(reply):
        if m.group(0).lower() not in pool_low:
            bad.append(m.group(0))
    for m in _URL.finditer(_EMAIL.sub(" ", reply)):
        u = m.group(0).rstrip(".,;:!?").lower()
        core = re.sub(r"^https?://", "", u).rstrip("/")
        if core and core not in pool_low:
            bad.append(m.group(0))
    return bad


def _content(text: str, language: str) -> str:
    """The reply without greeting, closing and citations (what the language check should see)."""
    w = wording(language)
    for fixed in (w.greeting, w.closing):
        text = text.replace(fixed, " ")
    return _CITE.sub(" ", text).strip()


def grounding(body: str, sources: Sequence[str], language: str = "", ignore: frozenset[str] = frozenset()) -> float:
    """Share of the reply's content words (stemmed) found in the sources or the message (1.0 = all copied).

    A tuned model that copies the answering clause scores 0.7-1.0; a reply that wanders away from its
    passage (a paraphrase that changes the rule, an invented step) scores low. Stemmed words in ``ignore`` do not
    count (a summary's frame: customer, agent, asks …).
    """
    from copilot.textnorm import tokens

    lang = KB_LANGUAGE.get(language, language)
    words = [t for t in tokens(body, lang) if not t.isdigit() and t not in ignore]
    if not words:
        return 1.0
    pool = {t for text in sources for t in tokens(text, lang)}
    return sum(1 for t in words if t in pool) / len(words)


#: A generated answer that says the passage does not answer (the tuned model's "not in our help centre").
NOT_IN_KB = re.compile(
    r"centre d'aide|centro de ayuda|help cent(?:re|er)|مركز المساعدة|(?:pas|aucune) (?:cette |d')?information"
    r"|no (?:tengo|dispongo de|encuentro) (?:esa|esta|ese|este)|(?:don't|do not) have (?:this|that) information",
    re.I,
)


#: Recorded in ``Draft.rejected`` when the model answered "not in our help centre" and the extractive draft stands.
MODEL_FOUND_NO_ANSWER = "the model found no answer in the best passage"


def says_not_in_kb(text: str) -> bool:
    """The generated text is a holding answer (no citation, says the help centre lacks the information)."""
    _fixed, cited, _dropped = repair_citations(text, 9)
    return not cited and bool(NOT_IN_KB.search(text))


def validate_generated(
    text: str,
    *,
    language: str,
    n_sources: int,
    allowed: Sequence[str],
    detect: Callable[[str], LanguageInfo],
    max_chars: int = 1200,
    must_cite: bool = True,
    min_grounding: float = 0.0,
    best_sentence: str = "",
    min_agreement: float = 0.0,
    keep_numbers: bool = False,
) -> Validation:
    """Check a generated reply: citations, language, facts, length, leftovers of the prompt.

    Args:
        text: The generated reply (greeting included).
        language: The reply language it must be written in.
        n_sources: How many sources the prompt showed.
        allowed: Texts the reply's numbers, URLs and e-mails may come from (sources, customer message).
        detect: Language detector.
        max_chars: Length bound.
        must_cite: Require at least one valid citation.
        min_grounding: Minimum share of the reply's content words found in ``allowed`` (see :func:`grounding`).
        best_sentence: The source sentence the retriever's sentence ranker scores highest for the message.
        min_agreement: Minimum share of the reply's content words found in ``best_sentence``: a 270M model often
            copies a neighbouring sentence of the right passage (the wrong fact); the extractive draft is safer then.
        keep_numbers: Require every number of ``best_sentence`` in the reply: the model otherwise keeps the first
            clause of the answer and drops the one after it ("at least 90 %" without "for example 180 Mb/s").
    """
    reasons: list[str] = []
    fixed, cited, dropped = repair_citations(text, n_sources)
    if dropped:
        log.info("dropped %d invalid citations", len(dropped))
    body = _content(fixed, language)
    if len(body) < 20:
        reasons.append("too short")
    if len(fixed) > max_chars:
        reasons.append("too long")
    if must_cite and not cited:
        reasons.append("no valid citation")
    w = wording(language)
    leftovers = (w.customer, w.source + " [", w.answer, "Client:", "Customer:", "<start_of_turn>", "<end_of_turn>")
    rules = [r.strip(" .") for r in re.split(r"(?<=[.!?؟])\s+", w.task) if len(r.strip(" .")) >= 20]
    if any(x in fixed for x in leftovers) or any(r in fixed for r in rules):
        reasons.append("prompt scaffolding in the text")
    sentences = [s.strip() for s in re.split(r"(?<=[.!?؟])\s+|\n+", body) if len(s.strip()) > 15]
    if len(sentences) != len(set(sentences)):
        reasons.append("repeated sentences")
    if len(body) >= 20:
        detected = detect(body)
        if detected.code not in ACCEPTED.get(language, {language}):
            reasons.append(f"language {detected.code}, expected {language}")
    bad = unsupported_facts(fixed, allowed)
    if bad:
        reasons.append("facts not in the sources: " + ", ".join(bad[:5]))
    if any(looks_like_instruction(s) for s in sentences):
        reasons.append("follows or repeats an instruction from the text")
    if min_grounding > 0 and len(body) >= 20:
        share = grounding(body, allowed, language)
        if share < min_grounding:
            reasons.append(f"wanders from the source ({share:.2f} of its words are in it)")
    if min_agreement > 0 and best_sentence and len(body) >= 20 and not says_not_in_kb(fixed):
        share = grounding(body, [best_sentence], language)
        if share < min_agreement:
            reasons.append(f"answers from another sentence than the best-matching one ({share:.2f} overlap)")
    if keep_numbers and best_sentence and not says_not_in_kb(fixed):
        in_reply = numbers(fixed)
        left_out = sorted(
            m.group(0).strip()
            for m in _NUMBER.finditer(_CITE.sub(" ", best_sentence.translate(_ARABIC_DIGITS)))
            if (re.sub(r"\D", "", m.group(0)).lstrip("0") or "0") not in in_reply
            and not all((r.lstrip("0") or "0") in in_reply for r in re.findall(r"\d+", m.group(0)))
        )
        if left_out:
            reasons.append("leaves out numbers of the best-matching sentence: " + ", ".join(left_out[:5]))
    return Validation(ok=not reasons, text=fixed, cited=tuple(cited), reasons=tuple(reasons))


# ---------------------------------------------------------------------------------------------- pipeline
class Drafter:
    """Retrieve, prompt, generate, validate; always with an extractive draft to fall back on.

    Args:
        retriever: The KB retriever (gives hits, the query's language and the article chunks).
        generator: The generator, or ``None`` for extractive drafts only.
        settings: Settings.
    """

    def __init__(self, retriever: Retriever, generator: Generator | None, settings: Settings) -> None:
        self.retriever = retriever
        self.generator = generator
        self.settings = settings
        self._article_chunks: dict[str, list[Chunk]] | None = None

    def _articles(self) -> dict[str, list[Chunk]]:
        """Body chunks per article, in reading order (built once from the index)."""
        if self._article_chunks is None:
            by: dict[str, list[Chunk]] = {}
            for c in self.retriever.index.chunks:
                if c.kind == "text":
                    by.setdefault(c.article_id, []).append(c)
            for v in by.values():
                v.sort(key=lambda c: c.position)
            self._article_chunks = by
        return self._article_chunks

    def article_text(self, article_id: str) -> list[Chunk]:
        """Body chunks of an article in reading order."""
        return self._articles().get(article_id, [])

    @staticmethod
    def _as_hit(article_id: str, chunks: list[Chunk], score: float) -> Hit:
        from copilot.types import Hit as _Hit

        c = chunks[0]
        return _Hit(article_id=article_id, title=c.title, score=score, language=c.language, chunk=c, url=c.url)

    def _source_for(self, hit: Hit, reply_lang: str, others: Sequence[Hit] = (), near: float = 0.75) -> Hit:
        """The hit itself, or its translation in the reply's KB language, or a near-tied hit in that language."""
        want = KB_LANGUAGE.get(reply_lang, reply_lang)
        if hit.language == want:
            return hit
        for other in others:
            if other.language == want and other.score >= near * hit.score:
                return other
        for aid in hit.translations:
            chunks = self.article_text(aid)
            if chunks and chunks[0].language == want:
                return self._as_hit(aid, chunks, hit.score)
        return hit

    def translation_of(self, article_id: str, language: str) -> Hit | None:
        """The article of the same topic group in ``language`` (``None`` when the KB has none)."""
        chunks = self.article_text(article_id)
        key = chunks[0].translation_key if chunks else ""
        want = KB_LANGUAGE.get(language, language)
        if chunks and chunks[0].language == want:
            return self._as_hit(article_id, chunks, 1.0)
        if not key:
            return None
        for aid, cs in sorted(self._articles().items()):
            if cs and cs[0].translation_key == key and cs[0].language == want:
                return self._as_hit(aid, cs, 1.0)
        return None

    def best_sentences(self, query: str, hit: Hit, k: int) -> list[str]:
        """The article's sentences most similar to the query (dense + lexical), in article order."""
        sentences, scores = self.scored_sentences(query, hit)
        return pick_sentences(scores, sentences, k) if scores else sentences

    def scored_sentences(self, query: str, hit: Hit) -> tuple[list[str], list[float]]:
        """The article's sentences and their similarity to the query (empty scores: no sentence split)."""
        from copilot.retrieve import plan_query
        from copilot.textnorm import tokens

        chunks = self.article_text(hit.article_id) or [hit.chunk]
        text = "\n".join(c.text for c in chunks)
        pairs = list(dict.fromkeys(split_sections(text)))
        seen: set[str] = set()
        pairs = [p for p in pairs if not (p[1] in seen or seen.add(p[1]))]  # type: ignore[func-returns-value]
        sentences = [p[1] for p in pairs]
        if not sentences:
            return [sanitize(hit.chunk.text)[:400]], []
        plan = plan_query(query)
        embedder = self.retriever.embedder
        import numpy as np

        qv = np.asarray(embedder.embed_queries(list(plan.variants)), dtype=np.float32)
        sv = np.asarray(embedder.embed_documents([f"{h}: {t}" if h else t for h, t in pairs]), dtype=np.float32)
        dense = (sv @ qv.T).max(axis=1)
        qtok = set(plan.lexical) | {t for v in plan.variants for t in tokens(v)}
        lex = np.array([len(qtok & set(tokens(f"{h} {t}"))) / (1 + len(qtok)) for h, t in pairs])
        pos = np.array([0.02 * (1 - i / len(sentences)) for i in range(len(sentences))])
        matched = sanitize(hit.chunk.text)
        in_chunk = np.array([0.05 if s[:40] in matched else 0.0 for s in sentences])
        short = np.array([-0.08 if len(s) < 40 else 0.0 for s in sentences])
        boost = QUANTITY_BOOST if ASKS_QUANTITY.search(query) else 0.0
        quantity = np.array([boost if boost and _DIGIT.search(s) else 0.0 for s in sentences])
        scores = (dense + 0.3 * lex + pos + in_chunk + short + quantity).tolist()
        return sentences, scores

    def draft(
        self,
        message: str,
        *,
        context: str = "",
        result: SearchResult | None = None,
        on_text: Callable[[str], None] | None = None,
        use_generator: bool = True,
        on_extractive: Callable[[Draft], None] | None = None,
    ) -> Draft:
        """Draft a reply to ``message`` (the customer's question; ``context`` = earlier turns).

        ``on_extractive`` receives the retrieval-first draft as soon as it exists (before any model call), so a
        panel can show a correct draft at once while the model's text streams in through ``on_text``.
        """
        from copilot.lang import detect_language

        t0 = time.perf_counter()
        if result is None:
            result = self.retriever.search(message, self.settings.top_k)
        retrieval_ms = (time.perf_counter() - t0) * 1000
        lang = result.language.code
        fallback = result.hits[0].language if result.hits else "fr"
        rlang = reply_language(lang, fallback)
        timings: dict[str, float] = {"retrieval_ms": retrieval_ms, "first_token_ms": 0.0, "generation_ms": 0.0, "new_tokens": 0}
        model = self.generator.model_id if (self.generator is not None and use_generator) else "extractive"
        if result.no_match or not result.hits:
            text = holding_reply(rlang)
            if on_text is not None:
                on_text(text)
            holding = Draft(
                reply=text,
                language=lang,
                reply_language=rlang,
                citations=[],
                no_match=True,
                path="extractive",
                model="template",
                timings=timings,
                confidence=result.confidence,
                extractive_reply=text,
                hits=list(result.hits),
            )
            if on_extractive is not None:
                on_extractive(holding)
            return holding
        n_src = max(1, self.settings.reply_sources)
        sources: list[Hit] = []
        for h in result.hits:
            src = self._source_for(h, rlang, result.hits)
            if all(src.article_id != s.article_id for s in sources):
                sources.append(src)
            if len(sources) >= n_src:
                break
        warnings: list[str] = []
        if sources[0].language and KB_LANGUAGE.get(rlang, rlang) != sources[0].language:
            warnings.append(
                f"the best article ({sources[0].article_id}) has no {rlang} version; its text is in {sources[0].language}"
            )
        t1 = time.perf_counter()
        ranked = [self.scored_sentences(message, s) for s in sources]
        picked = [pick_sentences(sc, se, self.settings.extractive_sentences) if sc else se for se, sc in ranked]
        best_se, best_sc = ranked[0]
        top_sentence = best_se[max(range(len(best_sc)), key=best_sc.__getitem__)] if best_sc else ""
        extractive = extractive_reply(rlang, picked[0], 1)
        citations = [
            Citation(
                n=i + 1,
                article_id=s.article_id,
                title=s.title,
                url=s.url,
                language=s.language,
                chunk_id=s.chunk.id,
                text=" ".join(p),
            )
            for i, (s, p) in enumerate(zip(sources, picked))
        ]
        timings["selection_ms"] = (time.perf_counter() - t1) * 1000
        draft = Draft(
            reply=extractive,
            language=lang,
            reply_language=rlang,
            citations=citations[:1],
            no_match=False,
            path="extractive",
            model=model,
            timings=timings,
            confidence=result.confidence,
            extractive_reply=extractive,
            warnings=warnings,
            hits=list(result.hits),
        )
        if on_extractive is not None:
            on_extractive(draft)
        if self.generator is None or not use_generator:
            if on_text is not None:
                on_text(extractive)
            return draft
        k = self.settings.prompt_sentences or self.settings.extractive_sentences
        shown = [prompt_view(sc, se, k, self.settings.prompt_order) if sc else se for se, sc in ranked]
        prompt = build_prompt(
            rlang,
            [(s.title, " ".join(p)) for s, p in zip(sources, shown)],
            message,
            context,
            reply_shots(self.generator, self.settings),
        )
        params = GenerationParams(
            max_new_tokens=self.settings.max_new_tokens,
            stop=stop_strings(rlang),
            copy_bias=self.settings.reply_copy_bias,
            copy_source=top_sentence,
        )
        gen: Generation = run_generation(self.generator, prompt, params, on_text)
        timings.update(first_token_ms=gen.first_token_ms, generation_ms=gen.generation_ms, new_tokens=gen.new_tokens)
        draft.model = gen.model
        allowed = [c.text for c in citations] + [c.title for c in citations] + [message, context]
        check = validate_generated(
            gen.text,
            language=rlang,
            n_sources=len(citations),
            allowed=allowed,
            detect=detect_language,
            max_chars=self.settings.max_reply_chars,
            min_grounding=self.settings.min_grounding,
            best_sentence=top_sentence,
            min_agreement=self.settings.min_agreement,
            keep_numbers=self.settings.reply_keep_numbers,
        )
        draft.generated_reply = check.text
        benign = all(r == "no valid citation" or r.startswith("wanders") for r in check.reasons)
        refused = benign and says_not_in_kb(gen.text)
        if refused and not self.settings.model_no_match:
            draft.rejected = [*check.reasons, MODEL_FOUND_NO_ANSWER]
            if self.settings.model_no_match_warning:
                draft.warnings.append("the model found no answer to this question in the best passage: check the draft")
        elif refused:
            # The model read the passage and found no answer: say so rather than send the passage's nearest
            # sentences; the retrieval-first draft stays available to the agent as the alternative.
            draft.reply = with_closing(check.text, rlang)
            draft.path = "generated"
            draft.no_match = True
            draft.citations = []
            draft.warnings.append("the model found no answer to this question in the best passage")
        elif check.ok:
            draft.reply = with_closing(check.text, rlang)
            draft.path = "generated"
            draft.citations = [citations[n - 1] for n in sorted(set(check.cited))]
        else:
            draft.rejected = list(check.reasons)
        return draft
