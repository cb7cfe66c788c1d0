"""copilot: a local-first multilingual AI copilot for contact-centre agents.

Public API (importing this package loads no model and no heavy library)::

    from copilot import Copilot, Settings
    cp = Copilot(Settings.from_env(), index_dir="models/index")
    cp.build_index(["knowledge_base/"])
    result = cp.search("ma facture est trop élevée")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from copilot.config import Settings
from copilot.errors import CopilotError

__version__ = "0.1.0"
__all__ = ["Copilot", "CopilotError", "Settings", "__version__"]

if TYPE_CHECKING:
    from copilot.service import Copilot


def __getattr__(name: str) -> Any:
    if name == "Copilot":
        from copilot.service import Copilot

        return Copilot
    raise AttributeError(name)
