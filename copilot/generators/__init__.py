"""Text generators behind one small protocol: the embedded transformers model, llama.cpp, any
OpenAI-compatible server, and a scripted fake for tests.

A generator turns a :class:`Prompt` into a stream of text pieces (about one token each). Everything
around it (timing, stop strings, the length limit, the queue that keeps model calls one at a time
on a small CPU) lives in :func:`run_generation`, so each backend stays a thin adapter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from copilot.errors import InputError

if TYPE_CHECKING:
    from copilot.config import Settings

BACKENDS = ("transformers", "llama.cpp", "openai", "none")


@dataclass(frozen=True)
class Prompt:
    """What the model is asked.

    ``system`` holds the rules, ``user`` the task with its data (sources, customer message), and
    ``prefix`` the start of the answer, written for the model (a greeting in the customer's
    language anchors the reply language). Chat models get ``system``/``user`` as messages and
    continue after ``prefix``; base models get :meth:`as_text`.
    """

    system: str
    user: str
    prefix: str = ""

    def as_text(self) -> str:
        """Plain completion text for base (not instruction-tuned) models."""
        return f"{self.system}\n\n{self.user}\n{self.prefix}"

    def messages(self) -> list[dict[str, str]]:
        """Chat messages; the prefix, if any, is a partial assistant turn to continue."""
        msgs = [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]
        return msgs


@dataclass(frozen=True)
class GenerationParams:
    """Decoding settings. Greedy (temperature 0) by default: drafts must be reproducible."""

    max_new_tokens: int = 160
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int = 0
    #: Added to the logit of every token of ``copy_source`` (a copy bias: summaries and grounded replies should reuse
    #: the conversation's or the passage's own words). Backends without logit access ignore it.
    copy_bias: float = 0.0
    copy_source: str = ""


@dataclass
class Generation:
    """A finished generation with its timings (milliseconds)."""

    text: str
    model: str
    new_tokens: int = 0
    first_token_ms: float = 0.0
    generation_ms: float = 0.0
    finish_reason: str = "stop"
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float:
        decode_ms = self.generation_ms - self.first_token_ms
        return (self.new_tokens - 1) / (decode_ms / 1000) if self.new_tokens > 1 and decode_ms > 0 else 0.0


@runtime_checkable
class Generator(Protocol):
    """A text generator. Construction must be cheap; load weights on first :meth:`stream`."""

    @property
    def model_id(self) -> str:
        """Identifier of the model (recorded with every draft)."""
        ...

    def stream(self, prompt: Prompt, params: GenerationParams) -> Iterator[str]:
        """Yield the continuation of ``prompt.prefix`` piece by piece (about one token per piece)."""
        ...


#: One model call at a time per process: on a 2-core CPU, two concurrent generations are each
#: slower than running them in turn, so requests queue here (remote backends bypass it).
_LOCAL_MODEL_LOCK = threading.Lock()


def run_generation(
    generator: Generator,
    prompt: Prompt,
    params: GenerationParams | None = None,
    on_text: Callable[[str], None] | None = None,
) -> Generation:
    """Run a generator to completion, applying stop strings and measuring timings.

    Args:
        generator: The backend.
        prompt: The prompt.
        params: Decoding settings.
        on_text: Called with each new piece of text as it arrives (streaming to a UI).

    Returns:
        The generation; ``text`` is the whole answer (``prompt.prefix`` included when the backend continues
        it) without anything from a stop string on.
    """
    params = params or GenerationParams()
    local = not getattr(generator, "remote", False)
    lock = _LOCAL_MODEL_LOCK if local else None
    if lock is not None:
        lock.acquire()
    try:
        return _run(generator, prompt, params, on_text)
    finally:
        if lock is not None:
            lock.release()


def _run(generator: Generator, prompt: Prompt, params: GenerationParams, on_text: Callable[[str], None] | None) -> Generation:
    prefix = prompt.prefix if getattr(generator, "continues_prefix", True) else ""
    if on_text is not None and prefix:
        on_text(prefix)
    start = time.perf_counter()
    first = 0.0
    text = ""
    emitted = 0
    n = 0
    reason = "length"
    hold = max((len(s) for s in params.stop), default=0)
    stream = generator.stream(prompt, params)
    try:
        for piece in stream:
            if not piece and n:
                continue
            n += 1
            if n == 1:
                first = time.perf_counter() - start
            text += piece
            if not text.strip():  # leading whitespace (a chat model's first newline): not an answer yet
                continue
            text = text.lstrip() if not prefix or prefix[-1:].isspace() else text
            cut = _find_stop(text, params.stop)
            if cut is not None:
                text = text[:cut]
                reason = "stop"
                break
            # stream what can no longer become part of a stop string
            safe = len(text) - hold
            if on_text is not None and safe > emitted:
                on_text(text[emitted:safe])
                emitted = safe
            if n >= params.max_new_tokens:
                break
        else:
            reason = "stop"
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    if on_text is not None and len(text) > emitted:
        on_text(text[emitted:])
    total = time.perf_counter() - start
    stats = dict(getattr(generator, "last_stats", {}) or {})
    if not text.strip():
        text = ""
    return Generation(
        text=prefix + text,
        model=generator.model_id,
        new_tokens=int(stats.pop("new_tokens", n)),
        first_token_ms=first * 1000,
        generation_ms=total * 1000,
        finish_reason=reason,
        stats=stats,
    )


def _find_stop(text: str, stops: tuple[str, ...]) -> int | None:
    found = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return min(found) if found else None


def make_generator(settings: Settings, backend: str | None = None) -> Generator | None:
    """The generator named by ``backend`` (default: ``settings.generator``); ``None`` for ``none``.

    Raises:
        InputError: On an unknown backend name.
    """
    name = (backend or settings.generator).strip().lower()
    if name in ("transformers", "hf", "local"):
        from copilot.generators.hf import TransformersGenerator

        return TransformersGenerator(settings)
    if name in ("llama.cpp", "llamacpp", "llama-cpp", "gguf"):
        from copilot.generators.llamacpp import LlamaCppGenerator

        return LlamaCppGenerator(settings)
    if name == "openai":
        from copilot.generators.remote import OpenAIGenerator

        return OpenAIGenerator(settings)
    if name in ("none", "extractive", "off"):
        return None
    raise InputError(f"unknown generator '{backend or settings.generator}'; choose one of: {', '.join(BACKENDS)}")


__all__ = [
    "BACKENDS",
    "Generation",
    "GenerationParams",
    "Generator",
    "Prompt",
    "make_generator",
    "run_generation",
]
