"""Vectorised building blocks for ragged (grouped) arrays.

The bulk paths expand "each point × its candidates" into flat arrays and
reduce them again per point; these two helpers do the expansion and the
reduction so that no path needs a per-point Python loop.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Ints = NDArray[np.int64]


def ramp(counts: Ints) -> Ints:
    """0, 1, …, n−1 for each n in ``counts``, concatenated (nested ranges, no loop)."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)


def first_per_group(group: Ints, *keys: NDArray[np.generic]) -> Ints:
    """Positions of the smallest row of each group, ordered by ``keys`` (first key first).

    Used for every tie rule: the candidate with the smallest distance, then the
    lowest rank, wins; groups come out in ascending order.
    """
    order = np.lexsort(tuple(reversed(keys)) + (group,))
    sorted_group = group[order]
    first = np.r_[True, sorted_group[1:] != sorted_group[:-1]] if order.size else np.zeros(0, bool)
    return order[first]
