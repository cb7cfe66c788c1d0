"""Error types whose messages end with what the user should do next."""

from __future__ import annotations


class CopilotError(Exception):
    """Base class for errors a user can fix; the CLI prints them as `Error: ...`."""


class IndexNotFound(CopilotError):
    """No index folder (or an incomplete one) at the given path."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no index found at '{path}'. Build it first: `copilot index knowledge_base/ --index {path}`")


class IndexMismatch(CopilotError):
    """The index was built with another embedder or format than the one requested."""


class IndexCorrupted(CopilotError):
    """The index folder exists but its files are unreadable or inconsistent."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(
            f"the index at '{path}' is damaged ({detail}). Rebuild it: `copilot index <your KB folder> --index {path} --rebuild`"
        )


class ModelNotFound(CopilotError):
    """Model weights are not where the settings say."""


class MissingDependency(CopilotError):
    """An optional package is not installed."""

    def __init__(self, package: str, purpose: str | None = None) -> None:
        if purpose is None:  # a complete message
            super().__init__(package)
        else:
            super().__init__(f"{purpose} needs the package '{package}'. Install it: `pip install {package}`")


class InputError(CopilotError):
    """A user-supplied file or value is unusable (empty, unreadable, wrong format)."""


class GeneratorError(CopilotError):
    """The generator backend failed (server unreachable, timeout, rejected key, model missing)."""
