"""A scripted generator for fast tests: returns prepared text, streamed word by word."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence

from copilot.generators import GenerationParams, Prompt


class ScriptedGenerator:
    """Answers each prompt with the next scripted response (or with ``script(prompt)``).

    Args:
        script: A list of responses used in turn (the last one repeats), or a function of the prompt.
        model_id: Identifier reported in drafts.
        delay_s: Pause before each piece (to test streaming and queueing).
        remote: Behave like a remote backend (skip the local model queue).
    """

    def __init__(
        self,
        script: Sequence[str] | Callable[[Prompt], str],
        *,
        model_id: str = "scripted",
        delay_s: float = 0.0,
        remote: bool = False,
    ) -> None:
        self._script = script
        self._model_id = model_id
        self.delay_s = delay_s
        self.remote = remote
        self.prompts: list[Prompt] = []
        self.params: list[GenerationParams] = []

    @property
    def model_id(self) -> str:
        return self._model_id

    def stream(self, prompt: Prompt, params: GenerationParams) -> Iterator[str]:
        self.prompts.append(prompt)
        self.params.append(params)
        if callable(self._script):
            text = self._script(prompt)
        else:
            i = min(len(self.prompts) - 1, len(self._script) - 1)
            text = self._script[i] if self._script else ""
        for piece in re.findall(r"\s*\S+|\s+", text):
            if self.delay_s:
                time.sleep(self.delay_s)
            yield piece
