"""Regenerate the demo data: runs the generator package data/demogen (see its docstring)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demogen.__main__ import main  # noqa: E402

if __name__ == "__main__":
    main()
