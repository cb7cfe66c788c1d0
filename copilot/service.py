"""`Copilot`: the one object the CLI, the panel and the API talk to; builds components lazily."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot.config import Settings
from copilot.errors import CopilotError, IndexMismatch

if TYPE_CHECKING:
    from copilot.embed import Embedder
    from copilot.generators import Generator
    from copilot.index import KBIndex
    from copilot.indexer import BuildReport
    from copilot.reply import Draft, Drafter
    from copilot.retrieve import Retriever
    from copilot.rewrite import RewriteResult
    from copilot.summarize import Summary
    from copilot.types import LanguageInfo, SearchResult


class Copilot:
    """Facade over indexing and retrieval (and, later, drafting and summaries).

    Construction is cheap: the index and models load on first use.

    Args:
        settings: Settings (default: from the environment).
        index_dir: Index folder (default: ``settings.index_dir``).
        embedder: An embedder instance to use instead of the one named by the settings or the index.
        embedder_spec: Embedder spec to use (``use``, ``e5``, ``hashing``, ``st:<folder>``); when neither this
            nor ``embedder`` is given, searching uses the embedder recorded in the index manifest.
        generator: A generator instance, ``None`` for extractive drafts only, or a backend name
            (``transformers``, ``llama.cpp``, ``openai``, ``none``); default: ``settings.generator``.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        index_dir: str | Path | None = None,
        embedder: Embedder | None = None,
        embedder_spec: str | None = None,
        generator: Generator | str | None = "settings",
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.index_dir = Path(index_dir) if index_dir is not None else self.settings.index_dir
        self._embedder = embedder
        self._embedder_spec = embedder_spec
        self._index: KBIndex | None = None
        self._retriever: Retriever | None = None
        self._generator: Generator | str | None = generator
        self._drafter: Drafter | None = None
        self._fallback_embedder: Embedder | None = None
        self._summary_gen: Generator | None = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ components
    def embedder_for_build(self) -> tuple[Embedder, str]:
        """The embedder a build should use, and its spec for the manifest."""
        from copilot.embed import make_embedder

        if self._embedder is not None:
            return self._embedder, self._embedder_spec or self._embedder.model_id
        spec = self._embedder_spec or self.settings.embedder
        return make_embedder(spec, self.settings), spec

    def index(self) -> KBIndex:
        """The loaded index (raises ``IndexNotFound`` with the command that builds it)."""
        with self._lock:
            if self._index is None:
                from copilot.index import KBIndex

                self._index = KBIndex.load(self.index_dir)
            return self._index

    def retriever(self) -> Retriever:
        """The retriever over the index, with an embedder matching the index's manifest."""
        with self._lock:
            if self._retriever is None:
                from copilot.embed import make_embedder
                from copilot.retrieve import Retriever

                index = self.index()
                embedder = self._embedder
                if embedder is None:
                    spec = self._embedder_spec or index.embedder_spec or self.settings.embedder
                    embedder = make_embedder(spec, self.settings)
                if embedder.model_id != index.embedder_id:
                    raise IndexMismatch(
                        f"the index at '{self.index_dir}' was built with the embedder '{index.embedder_id}' but "
                        f"'{embedder.model_id}' was requested. Rebuild it with the new embedder: `copilot index "
                        f"<your KB folder> --index {self.index_dir} --embedder {self._embedder_spec or embedder.model_id}` "
                        f"(or drop --embedder to search with the index's own)"
                    )
                if embedder.dim != index.dim:
                    raise IndexMismatch(
                        f"the index at '{self.index_dir}' has {index.dim}-d vectors but the embedder gives {embedder.dim}-d. "
                        f"Rebuild it: `copilot index <your KB folder> --index {self.index_dir} --rebuild`"
                    )
                self._retriever = Retriever(index, embedder, self.settings)
            return self._retriever

    def generator(self) -> Generator | None:
        """The configured generator (``None`` when drafts are extractive only); weights load on first use."""
        with self._lock:
            if isinstance(self._generator, str):
                from copilot.generators import make_generator

                name = None if self._generator == "settings" else self._generator
                self._generator = make_generator(self.settings, name)
            return self._generator

    def drafter(self) -> Drafter:
        with self._lock:
            if self._drafter is None:
                from copilot.reply import Drafter

                self._drafter = Drafter(self.retriever(), self.generator(), self.settings)
            return self._drafter

    # ------------------------------------------------------------------ jobs
    def build_index(self, sources: Sequence[str | Path], *, rebuild: bool = False) -> BuildReport:
        """Index (or incrementally update) the KB files into ``index_dir``."""
        from copilot.indexer import build_index

        embedder, spec = self.embedder_for_build()
        report = build_index(list(sources), self.index_dir, embedder, self.settings, embedder_spec=spec, rebuild=rebuild)
        with self._lock:
            self._index = None
            self._retriever = None
        return report

    def search(self, query: str, k: int | None = None) -> SearchResult:
        """Hybrid search for one query."""
        return self.retriever().search(_checked(query, self.settings), k)

    def search_many(self, queries: Sequence[str], k: int | None = None) -> list[SearchResult]:
        """Hybrid search for many queries, batched."""
        return self.retriever().search_many([_checked(q, self.settings) for q in queries], k)

    def draft_reply(
        self,
        message: str | None = None,
        *,
        turns: Sequence[dict[str, Any]] | None = None,
        on_text: Callable[[str], None] | None = None,
        use_generator: bool = True,
        on_extractive: Callable[[Draft], None] | None = None,
    ) -> Draft:
        """Draft a grounded reply to a customer message or to the last customer turns of a conversation.

        Args:
            message: The customer's message.
            turns: Or the conversation so far: ``[{"speaker": "customer"|"agent", "text": ...}]``.
            on_text: Receives the draft text as it streams in.
            use_generator: ``False`` gives the retrieval-first (extractive) draft without calling the model.
            on_extractive: Receives the retrieval-first draft before the model is called (show it at once).

        Raises:
            InputError: Empty, oversized or non-text input.
        """
        from copilot.errors import InputError

        context = ""
        if turns is not None:
            if not isinstance(turns, (list, tuple)) or not turns:
                raise InputError("'turns' must be a non-empty list of {speaker, text}")
            from copilot.reply import conversation_query

            try:
                message, context = conversation_query(turns)
            except ValueError as e:
                raise InputError(str(e)) from e
        if message is None:
            raise InputError("give the customer's message (or the conversation turns)")
        query = _checked(message, self.settings)
        return self.drafter().draft(
            query, context=context, on_text=on_text, use_generator=use_generator, on_extractive=on_extractive
        )

    def rewrite(self, text: str, style: str, *, language: str | None = None, sources: Sequence[str] = ()) -> RewriteResult:
        """Rewrite a draft (``shorter``, ``longer``, ``formal``, ``friendly``, ``empathetic``), keeping its citations.

        Args:
            text: The draft.
            style: The style.
            language: Reply language of the draft (default: detected).
            sources: Texts of the cited sources (facts the rewrite may use).
        """
        from copilot.errors import InputError
        from copilot.lang import detect_language
        from copilot.rewrite import rewrite
        from copilot.templates import reply_language

        text = _checked(text, self.settings)
        lang = language or reply_language(detect_language(text).code)
        try:
            return rewrite(text, style, language=lang, generator=self.generator(), detect=detect_language, sources=sources)
        except ValueError as e:
            raise InputError(str(e)) from e

    def translate(
        self,
        text: str,
        target: str,
        *,
        citations: Sequence[Any] = (),
        message: str | None = None,
    ) -> RewriteResult:
        """Translate a customer message (for the agent) or a draft (for the customer).

        Tries the generator; then, for a cited draft, rebuilds it from the target-language versions of the
        cited articles; for Darija or MSA, glosses it word by word; else says no offline translation exists.

        Args:
            text: The text.
            target: ``fr``, ``ar``, ``es`` or ``en``.
            citations: The draft's citations (``Citation`` objects or dicts with ``article_id``).
            message: The customer's message the draft answers (to pick the right sentences).
        """
        from copilot.darija import gloss, gloss_msa
        from copilot.errors import InputError
        from copilot.lang import detect_language
        from copilot.reply import extractive_reply
        from copilot.rewrite import RewriteResult, normalize_target, translate_with_generator

        text = _checked(text, self.settings)
        try:
            tgt = normalize_target(target)
        except ValueError as e:
            raise InputError(str(e)) from e
        sources = [str(getattr(c, "text", "") or (c.get("text", "") if isinstance(c, dict) else "")) for c in citations]
        result, rejected = translate_with_generator(
            text, tgt, generator=self.generator(), detect=detect_language, sources=[s for s in sources if s]
        )
        if result is not None:
            return result
        ids = [str(getattr(c, "article_id", "") or (c.get("article_id", "") if isinstance(c, dict) else "")) for c in citations]
        ids = [i for i in ids if i]
        if ids:
            drafter = self.drafter()
            sentences: list[str] = []
            used: list[str] = []
            for aid in ids[:1]:
                translated = drafter.translation_of(aid, tgt)
                if translated is not None:
                    sentences = drafter.best_sentences(message or text, translated, self.settings.extractive_sentences)
                    used.append(translated.article_id)
            if sentences:
                return RewriteResult(
                    extractive_reply(tgt, sentences, 1),
                    "kb",
                    tgt,
                    "extractive",
                    f"rebuilt from the {tgt} version of the cited article ({', '.join(used)})",
                    rejected,
                )
        lang = detect_language(text)
        if lang.is_darija or lang.code == "ar":
            if lang.is_darija:
                out = gloss(text, "msa" if tgt == "ar" else tgt if tgt in ("fr", "en") else "fr")
            else:
                out = gloss_msa(text, tgt if tgt in ("fr", "en") else "fr")
            if lang.code != tgt:
                return RewriteResult(
                    out, "gloss", tgt, "lexicon", "word-by-word gloss from the Darija lexicon (a reading aid)", rejected
                )
        return RewriteResult(
            text,
            "unavailable",
            tgt,
            "",
            "no offline translation for this text and language pair with the configured generator; "
            "use the KB article in that language, or an openai backend with a stronger model",
            rejected,
        )

    def summarize_conversation(
        self,
        conversation: Any,
        *,
        language: str | None = None,
        use_generator: bool | None = None,
        redact_pii: bool = True,
    ) -> Summary:
        """A structured summary of one finished conversation.

        Args:
            conversation: ``[{"speaker": "customer"|"agent", "text": ...}]`` or a text with ``Customer:`` /
                ``Agent:`` lines (``Client:``, ``Conseiller:``, ``العميل:`` … are understood too).
            language: Language the summary is written in (``fr``, ``ar``, ``es``, ``en``); default: the
                conversation's (Darija -> Arabic, Arabizi -> French).
            use_generator: Try a generator for the summary paragraph; default: as ``settings.summary_generator`` says
                (``none`` = extractive only; ``auto`` = only when the summary is in another language than the
                conversation's, or it is Darija; ``translate`` = in those cases, the model translates the
                extractive summary's quotes and fields instead of writing the paragraph).
            redact_pii: Mask e-mails, phones, IBANs, cards, IPs and token URLs before anything else sees the text.

        Raises:
            InputError: Empty, malformed or oversized conversations.
        """
        from copilot.errors import InputError
        from copilot.lang import detect_language
        from copilot.pii import Redactor
        from copilot.summarize import (
            extractive_summary,
            generated_summary,
            needs_model,
            parse_conversation,
            translated_summary,
        )
        from copilot.templates import reply_language

        try:
            turns = parse_conversation(conversation)
        except ValueError as e:
            raise InputError(str(e)) from e
        size = sum(len(t) for _, t in turns)
        if size > self.settings.max_conversation_chars:
            raise InputError(
                f"the conversation has {size:,} characters, above the {self.settings.max_conversation_chars:,} limit "
                "(COPILOT_MAX_CONVERSATION_CHARS)"
            )
        if redact_pii:
            red = Redactor()
            turns = [(sp, red.redact(t)) for sp, t in turns]
        customer_text = " ".join(t for sp, t in turns if sp == "customer") or " ".join(t for _, t in turns)
        conv_lang = detect_language(customer_text[:2000]).code
        target = language or reply_language(conv_lang, "en")
        if target == "ary":
            target = "ar"
        summary = extractive_summary(
            turns,
            language=conv_lang,
            summary_language=target,
            embedder=self._summary_embedder(),
            categorize=self._categorize,
        )
        gen = self.summary_generator(conv_lang, target) if use_generator is not False else None
        if use_generator and gen is None:
            gen = self.generator()
        if gen is None:
            return summary
        if self.settings.summary_generator.strip().lower() == "translate" and not use_generator:
            return translated_summary(summary, turns, generator=gen, detect=detect_language)
        same_language = not needs_model(conv_lang, target)
        text, reasons, model = generated_summary(
            turns,
            summary_language=target,
            generator=gen,
            detect=detect_language,
            min_grounding=self.settings.summary_min_grounding if same_language else 0.0,
        )
        summary.model = model
        if text is not None:
            summary.summary = text
            summary.path = "generated"
        else:
            summary.rejected = reasons
        return summary

    def summary_generator(self, conversation_language: str = "", summary_language: str = "") -> Generator | None:
        """The generator named by ``settings.summary_generator`` for this pair of languages (``None``: extractive).

        ``auto`` gives the configured generator only when :func:`copilot.summarize.needs_model` says the extractive
        paragraph cannot be written in the summary language.
        """
        from copilot.summarize import needs_model

        name = self.settings.summary_generator.strip().lower()
        if name in ("none", ""):
            return None
        if name in ("auto", "translate"):
            return self.generator() if needs_model(conversation_language, summary_language) else None
        if name == "default":
            return self.generator()
        with self._lock:
            if self._summary_gen is None:
                from copilot.generators import make_generator

                self._summary_gen = make_generator(self.settings, name)
            return self._summary_gen

    def _summary_embedder(self) -> Embedder | None:
        """The index's embedder when an index exists, else the configured one (None for hashing in tests)."""
        try:
            return self.retriever().embedder
        except CopilotError:
            if self._embedder is not None:
                return self._embedder
            from copilot.embed import make_embedder

            with self._lock:
                if self._fallback_embedder is None:
                    self._fallback_embedder = make_embedder(self._embedder_spec or self.settings.embedder, self.settings)
                return self._fallback_embedder

    def _categorize(self, text: str) -> str:
        """Category of a conversation: the configured list (closest name), else the KB's best article's category."""
        cats = [c.strip() for c in self.settings.categories.split(",") if c.strip()]
        try:
            if cats:
                import numpy as np

                emb = self._summary_embedder()
                if emb is None:
                    return cats[0]
                v = np.asarray(emb.embed_queries([text[:1000]]), dtype=np.float32)
                c = np.asarray(emb.embed_documents(cats), dtype=np.float32)
                return cats[int((c @ v[0]).argmax())]
            result = self.retriever().search(text[:2000], 3)
        except CopilotError:
            return "uncategorised"
        if result.no_match or not result.hits:
            return "other"
        return result.hits[0].chunk.category or (result.hits[0].chunk.tags[0] if result.hits[0].chunk.tags else "other")

    def detect_language(self, text: str) -> LanguageInfo:
        """Language of a text, including Darija in Arabic script (``ary``) and Arabizi (``ary-Latn``)."""
        from copilot.lang import detect_language

        return detect_language(text)


def _checked(query: str, settings: Settings) -> str:
    from copilot.errors import InputError
    from copilot.textnorm import clean

    if not isinstance(query, str):
        raise InputError("the query must be text")
    if len(query) > settings.max_query_chars:
        raise InputError(
            f"the query is {len(query):,} characters, above the {settings.max_query_chars:,} limit "
            "(COPILOT_MAX_QUERY_CHARS); send the customer's question, not a whole file"
        )
    text = clean(query).strip()
    if not text:
        raise InputError("the query is empty; type the customer's message")
    return text
