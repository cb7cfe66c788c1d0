"""Any OpenAI-compatible server (vLLM, TGI, Ollama, llama.cpp's ``llama_cpp.server``): how a large
centre scales drafting out to GPUs. Streaming, timeouts and retries come from the ``openai`` client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from copilot.errors import GeneratorError, MissingDependency
from copilot.generators import GenerationParams, Prompt

if TYPE_CHECKING:
    from copilot.config import Settings


class OpenAIGenerator:
    """Chat (``/v1/chat/completions``) or plain completion (``/v1/completions``) requests.

    Settings: ``openai_base_url``, ``openai_model``, ``openai_api_key`` (or ``OPENAI_API_KEY``),
    ``openai_api`` (``chat`` | ``completions``), ``openai_timeout`` (seconds), ``openai_retries``.
    """

    remote = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Any = None
        self._model: str = settings.openai_model
        self.last_stats: dict[str, float] = {}

    @property
    def continues_prefix(self) -> bool:
        return self.settings.openai_api == "completions"

    @property
    def model_id(self) -> str:
        host = urlparse(self.settings.openai_base_url).netloc or self.settings.openai_base_url
        return f"openai:{self._model or '?'}@{host}"

    def client(self) -> Any:
        if self._client is None:
            try:
                from openai import OpenAI
            except ImportError as e:
                raise MissingDependency("the openai backend needs `pip install openai` (see requirements.txt)") from e
            key = self.settings.openai_api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"
            self._client = OpenAI(
                base_url=self.settings.openai_base_url,
                api_key=key,
                timeout=self.settings.openai_timeout,
                max_retries=self.settings.openai_retries,
            )
        return self._client

    def model_name(self) -> str:
        """The configured model, or the server's first model when none is configured."""
        if not self._model:
            with _errors(self.settings):
                models = self.client().models.list()
                ids = [m.id for m in models.data]
            if not ids:
                raise GeneratorError(f"the server at {self.settings.openai_base_url} lists no model; set COPILOT_OPENAI_MODEL")
            self._model = ids[0]
        return self._model

    def stream(self, prompt: Prompt, params: GenerationParams) -> Iterator[str]:
        model = self.model_name()
        client = self.client()
        common: dict[str, Any] = {
            "model": model,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": True,
            "seed": params.seed,
        }
        if params.stop:
            common["stop"] = [s for s in params.stop if s.strip()][:4]  # whitespace stops are applied locally
        n = 0
        self.last_stats = {}
        with _errors(self.settings):
            if self.settings.openai_api == "completions":
                stream = client.completions.create(prompt=prompt.as_text(), **common)
            else:
                user = prompt.user
                if prompt.prefix.strip():
                    user += f"\n\nStart the reply with: {prompt.prefix.strip()}"
                stream = client.chat.completions.create(
                    messages=[{"role": "system", "content": prompt.system}, {"role": "user", "content": user}], **common
                )
            for chunk in stream:
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                piece = getattr(choice, "text", None)
                if piece is None:
                    delta = getattr(choice, "delta", None)
                    piece = getattr(delta, "content", None) if delta is not None else None
                if piece:
                    n += 1
                    self.last_stats["new_tokens"] = float(n)
                    yield piece


class _errors:
    """Turn the client's exceptions into one actionable ``GeneratorError``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __enter__(self) -> None:
        return None

    def __exit__(self, et: Any, e: Any, tb: Any) -> None:
        if e is None:
            return
        try:
            import openai
        except ImportError:  # pragma: no cover
            return
        url = self.settings.openai_base_url
        if isinstance(e, openai.APITimeoutError):
            raise GeneratorError(
                f"the generation server at {url} did not answer within {self.settings.openai_timeout:g} s "
                f"(after {self.settings.openai_retries} retries); raise COPILOT_OPENAI_TIMEOUT or check the server load"
            ) from e
        if isinstance(e, openai.APIConnectionError):
            raise GeneratorError(
                f"cannot reach the generation server at {url}: is it running? For a local one: "
                "`python -m llama_cpp.server --model models/cache/gemma-3-270m-q4_k_m.gguf --host 127.0.0.1 --port 8000`"
            ) from e
        if isinstance(e, openai.AuthenticationError):
            raise GeneratorError(f"the server at {url} rejected the API key; set COPILOT_OPENAI_API_KEY") from e
        if isinstance(e, openai.NotFoundError):
            raise GeneratorError(
                f"the server at {url} has no model '{self.settings.openai_model}' (or no such endpoint); "
                "check COPILOT_OPENAI_MODEL and COPILOT_OPENAI_BASE_URL (it usually ends in /v1)"
            ) from e
        if isinstance(e, openai.APIStatusError):
            raise GeneratorError(f"the server at {url} answered HTTP {e.status_code}: {str(e)[:300]}") from e
        if isinstance(e, openai.OpenAIError):
            raise GeneratorError(f"the generation server at {url} failed: {str(e)[:300]}") from e
