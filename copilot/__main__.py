"""`python -m copilot` runs the command line."""

from __future__ import annotations

import sys

from copilot.cli import main

if __name__ == "__main__":
    sys.exit(main())
