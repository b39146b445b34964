"""``python data/generate_demo.py [--out DIR]``: write the demo town (data/demo)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .town import OUT, write_town


def main(argv: list[str] | None = None) -> None:
    """Regenerate the demo data (deterministic: a fixed seed, no clock, no network)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--town-out", type=Path, default=OUT, help="where the town goes")
    args = parser.parse_args(argv)
    write_town(args.town_out)


if __name__ == "__main__":
    main()
