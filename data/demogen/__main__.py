"""``python data/generate_demo.py``: write the demo town (data/demo) and district (data/demo-district)."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import district, town


def main(argv: list[str] | None = None) -> None:
    """Regenerate the demo data (deterministic: a fixed seed, no clock, no network)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--town-out", type=Path, default=town.OUT, help="where the town goes")
    parser.add_argument(
        "--district-out", type=Path, default=district.OUT, help="where the district goes"
    )
    parser.add_argument("--only", choices=("town", "district"), help="write only one of them")
    args = parser.parse_args(argv)
    if args.only != "district":
        town.write_town(args.town_out)
    if args.only != "town":
        district.write_district(args.district_out)


if __name__ == "__main__":
    main()
