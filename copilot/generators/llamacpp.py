"""llama.cpp backend (optional extra ``llama-cpp-python``) on a GGUF file: 4-bit weights, fast on CPU."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from copilot.errors import MissingDependency
from copilot.generators import GenerationParams, Prompt

if TYPE_CHECKING:
    from copilot.config import Settings
    from copilot.models import ModelRef

log = logging.getLogger(__name__)

BUILD_HINT = (
    'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF '
    '-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" pip install "llama-cpp-python[server]==0.3.36"'
)


class LlamaCppGenerator:
    """Generates with ``llama_cpp.Llama`` (loaded on first use)."""

    remote = False
    continues_prefix = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._llm: Any = None
        self._ref: ModelRef | None = None
        self._chat_format: Any = None
        self._lock = threading.Lock()
        self.last_stats: dict[str, float] = {}

    @property
    def prompt_shots(self) -> int:
        """Worked examples the reply prompt needs: none when the embedded model runs with its adapter merged in."""
        from copilot.models import gguf_adapter

        return 0 if gguf_adapter(self.settings) is not None else 1

    @property
    def model_id(self) -> str:
        name = self._ref.path.name if self._ref else (self.settings.model or "gemma-3-270m")
        return f"llama.cpp:{name}"

    def load(self) -> None:
        with self._lock:
            if self._llm is not None:
                return
            try:
                from llama_cpp import Llama
            except ImportError as e:
                raise MissingDependency(
                    f"the llama.cpp backend needs llama-cpp-python. Build it for this CPU with: {BUILD_HINT}"
                ) from e
            from copilot.models import resolve_model

            ref = resolve_model(self.settings, "gguf")
            self._llm = Llama(
                model_path=str(ref.path),
                n_ctx=self.settings.max_prompt_tokens + 512,
                n_threads=self.settings.threads,
                n_threads_batch=self.settings.threads,
                seed=0,
                verbose=False,
            )
            self._ref = ref
            template = self._llm.metadata.get("tokenizer.chat_template")
            if template:
                from llama_cpp.llama_chat_format import Jinja2ChatFormatter

                self._chat_format = Jinja2ChatFormatter(template=template, eos_token="", bos_token="")

    def render(self, prompt: Prompt) -> str:
        self.load()
        if self._chat_format is not None:
            return str(self._chat_format(messages=prompt.messages()).prompt) + prompt.prefix
        return prompt.as_text()

    def stream(self, prompt: Prompt, params: GenerationParams) -> Iterator[str]:
        self.load()
        text = self.render(prompt)
        self.last_stats = {}
        bias = None
        if params.copy_bias and params.copy_source:
            ids = set(self._llm.tokenize(params.copy_source.encode("utf-8"), add_bos=False, special=False))
            bias = dict.fromkeys(sorted(ids), params.copy_bias)
        stream = self._llm.create_completion(
            prompt=text,
            max_tokens=params.max_new_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            stop=list(params.stop) or None,
            seed=params.seed,
            logit_bias=bias,
            stream=True,
        )
        for n, chunk in enumerate(stream, 1):
            self.last_stats["new_tokens"] = float(n)
            yield chunk["choices"][0].get("text", "")
