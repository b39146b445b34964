"""Start-up of the command line: wall time of ``python -m gridsvc ... --help`` (median of 7).

The target (issue 21) is under 0.5 s; tests/cli/test_startup.py checks the cause
(no heavy library imported), this prints the effect.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

COMMANDS = [("--help",), ("layers", "--help"), ("map", "--help"), ("serve", "--help")]
RUNS = 7


def _wall(args: tuple[str, ...]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gridsvc", *args], capture_output=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    for args in COMMANDS:
        _wall(args)  # warm the file cache
        median = statistics.median(_wall(args) for _ in range(RUNS))
        print(f"gridsvc {' '.join(args):<16} {median:6.3f} s  (target < 0.5 s)")


if __name__ == "__main__":
    main()
