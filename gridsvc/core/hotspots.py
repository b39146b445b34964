"""Where problems concentrate: counts per area, classes, Getis-Ord Gi*, aggregated heat.

Leaders should see what is *significant*, not merely what is dense: a grid
with many cases next to other busy grids is a hot spot; one busy grid in a
quiet area may be chance. Gi* (Getis & Ord 1992, Ord & Getis 1995) answers
that with a z-score per area; we bin it the way planners know from ArcGIS's
Hot Spot Analysis (±3 / ±2 / ±1 for 99 / 95 / 90 % confidence, two-sided).

Everything here is pure: arrays and geometries in, arrays out. esda and
libpysal compute Gi* and the contiguity; mapclassify computes classes.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from gridsvc.core.errors import InvalidInput
from gridsvc.core.messages import Msg

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

#: Two-sided normal critical values for 90, 95 and 99 % confidence.
Z_CRITICAL: tuple[tuple[int, float], ...] = ((3, 2.5758), (2, 1.9600), (1, 1.6449))
CONFIDENCE = {3: 99, 2: 95, 1: 90}
CLASSIFY_SAMPLE = 4_000  # values the class breaks are computed from

#: scheme → mapclassify's class, by name: mapclassify (with scikit-learn and scipy.stats
#: under it) is imported on the first map that classes values, not by every server worker
#: at start (about 70 MB and a second per process; issue 21, bench_serve.py)
SCHEMES = {
    "natural_breaks": "NaturalBreaks",
    "quantiles": "Quantiles",
    "equal_interval": "EqualInterval",
    "head_tail": "HeadTailBreaks",
}


def area_index(codes: Sequence[object] | pd.Series, universe: Sequence[str]) -> Ints:
    """Position of each case's area code in ``universe`` (-1 for codes outside it)."""
    index = pd.Index(list(universe), dtype=object)
    return np.asarray(index.get_indexer(pd.Series(codes, dtype=object)), dtype=np.int64)


def counts_by_code(codes: Sequence[object] | pd.Series, universe: Sequence[str]) -> Ints:
    """Cases per area code, in the order of ``universe``; codes outside it are dropped.

    Areas without a case get 0: they belong in the map and in Gi*, where
    a quiet area is information too.
    """
    index = area_index(codes, universe)
    return np.bincount(index[index >= 0], minlength=len(universe)).astype(np.int64)


def counts_by_period(
    area: Ints, period: Ints, n_areas: int, n_periods: int, weights: Ints | None = None
) -> Ints:
    """A (period × area) table of case counts from each case's area and period index (-1 skipped).

    With ``weights`` each entry is a group of that many cases (counts the
    database grouped), not one case.
    """
    keep = (area >= 0) & (period >= 0)
    flat = period[keep] * n_areas + area[keep]
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[keep]
    table = np.bincount(flat, weights=w, minlength=n_areas * n_periods)
    return np.rint(table).reshape(n_periods, n_areas).astype(np.int64)


@dataclass(frozen=True)
class CaseCounts:
    """What a hotspot map draws of its cases, already counted: no row per case needed.

    ``grid_period`` holds one row per (grid code, period label) with ``n``
    cases (grid code None for cases outside every grid); ``heat`` points
    (lon, lat) carry a weight each, one per case or one per bin of cases;
    ``cells`` is the cases per cell code when a cell view is drawn. Built
    by the database's GROUP BY (:mod:`gridsvc.store.case_counts`) or from
    points with :meth:`from_points`; both give the same counts.
    """

    grid_period: pd.DataFrame  # grid_code, period, n
    categories: dict[str, int]
    heat_lon: Floats
    heat_lat: Floats
    heat_weight: Floats  # cases per heat point (a sample's scaled up: not whole)
    cells: dict[str, int] | None = None
    heat_binned_m: float = 0.0  # the database's bin for the heat points (0: one per case)
    heat_share: float = 1.0  # the share of the cases the heat was drawn from (a sample below 1)

    @property
    def total(self) -> int:
        return int(self.grid_period["n"].sum()) if len(self.grid_period) else 0

    @classmethod
    def from_points(cls, cases: pd.DataFrame, freq: str) -> CaseCounts:
        """The counts of a frame of cases (lon, lat, grid_code, category, created_at; cell_code)."""
        if cases.empty:
            labels = pd.Series([], dtype=object)
        else:
            labels = period_labels(cases["created_at"], freq)
        frame = pd.DataFrame(
            {"grid_code": cases["grid_code"].astype(object), "period": labels.to_numpy()}
        )
        grouped = frame.groupby(["grid_code", "period"], dropna=False, sort=False).size()
        grid_period = grouped.rename("n").reset_index()
        grid_period["grid_code"] = grid_period["grid_code"].astype(object)
        grid_period.loc[grid_period["grid_code"].isna(), "grid_code"] = None
        cells = None
        if "cell_code" in cases:
            cells = {str(k): int(v) for k, v in cases["cell_code"].dropna().value_counts().items()}
        return cls(
            grid_period,
            {str(k): int(v) for k, v in cases["category"].value_counts().items()},
            cases["lon"].to_numpy(np.float64),
            cases["lat"].to_numpy(np.float64),
            np.ones(len(cases), np.float64),
            cells,
        )


@dataclass(frozen=True)
class Classes:
    """Class breaks of a value and each area's class (0 = the lowest)."""

    scheme: str
    upper_bounds: tuple[float, ...]
    classes: Ints

    def labels(self, digits: int = 0) -> list[str]:
        """Readable ranges, e.g. ``0–12``, one per class."""
        lows = (0.0, *self.upper_bounds[:-1])
        fmt = f"{{:,.{digits}f}}"
        return [
            f"{fmt.format(lo)}–{fmt.format(hi)}"
            for lo, hi in zip(lows, self.upper_bounds, strict=True)
        ]


def classify(
    values: Sequence[float] | Floats, k: int = 5, scheme: str = "natural_breaks"
) -> Classes:
    """Class the values for a choropleth with mapclassify.

    ``k`` shrinks to the number of distinct values, so a quiet town with
    three distinct counts gets three classes instead of a mapclassify warning
    and empty classes.
    """
    if scheme not in SCHEMES:
        raise InvalidInput(Msg("hotspots.scheme", scheme=scheme, schemes=list(SCHEMES)))
    if k < 2:
        raise InvalidInput(Msg("hotspots.classes", k=k))
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return Classes(scheme, (), np.zeros(0, np.int64))
    distinct = np.unique(array)
    if distinct.size <= k:
        # every distinct value its own class; mapclassify would warn and merge
        bins = distinct
        return Classes(
            scheme, tuple(float(b) for b in bins), np.searchsorted(bins, array).astype(np.int64)
        )
    # breaks from a fixed sample (the maximum always in it) and then every value classed
    # by them: the breaks of 20,000 grids barely move, the time drops tenfold
    sample = array
    if array.size > CLASSIFY_SAMPLE:
        rng = np.random.default_rng(0)
        sample = np.append(rng.choice(array, CLASSIFY_SAMPLE, replace=False), array.max())
    import mapclassify
    from threadpoolctl import threadpool_limits

    # natural breaks are scikit-learn's k-means, whose OpenMP threads spin against each
    # other on a busy machine: 4,000 values took 2.8-4.4 s with the two cores shared,
    # 0.07 s in one thread (bench_district.py's hotspot map, issue 23)
    # natural breaks' k-means starts from numpy's global random state: seeded here (and
    # the state given back), the same counts get the same classes on every reload
    state = np.random.get_state()
    try:
        np.random.seed(0)
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            if scheme == "head_tail":
                classifier = getattr(mapclassify, SCHEMES[scheme])(sample)
            else:
                classifier = getattr(mapclassify, SCHEMES[scheme])(sample, k=k)
    finally:
        np.random.set_state(state)
    bins = np.asarray(classifier.bins, dtype=np.float64)
    bins[-1] = max(bins[-1], float(array.max()))
    classes = np.minimum(np.searchsorted(bins, array, side="left"), len(bins) - 1)
    return Classes(scheme, tuple(float(b) for b in bins), classes.astype(np.int64))


@dataclass(frozen=True)
class HotSpots:
    """Gi* per area: z-score, two-sided p-value and the confidence bin.

    ``bins`` is +3/+2/+1 for hot spots at 99/95/90 %, the negatives for cold
    spots and 0 where nothing is significant (ArcGIS's Gi_Bin convention).
    """

    z: Floats
    p: Floats
    bins: Ints

    @property
    def hot(self) -> NDArray[np.bool_]:
        return self.bins > 0

    @property
    def cold(self) -> NDArray[np.bool_]:
        return self.bins < 0


def contiguity(geometry: gpd.GeoSeries | Sequence[object]) -> Any:
    """Queen contiguity of the areas with each area its own neighbour too (the star in Gi*).

    Queen suits a tiling of grids: areas touching at a corner are
    neighbours, as a patrol walking across the corner sees them. In a
    coverage, areas that share a point intersect, so one bulk STRtree query
    finds every pair; it is ten times faster than libpysal's vertex
    matching on 20,000 grids and gives the same graph on a clean coverage.
    The result is a libpysal Graph with binary weights, the self-weight
    already set, so each Gi* on it needs no copy.
    """
    from libpysal.graph import Graph

    geoms = np.asarray(
        geometry.values if isinstance(geometry, gpd.GeoSeries) else list(geometry), dtype=object
    )
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    n = len(geoms)
    focal = np.concatenate([left[left != right], np.arange(n)])
    neighbour = np.concatenate([right[left != right], np.arange(n)])
    order = np.lexsort((neighbour, focal))
    return Graph.from_arrays(focal[order], neighbour[order], np.ones(len(focal)))


def gi_star(values: Sequence[float] | Floats, graph: Any) -> HotSpots:
    """Getis-Ord Gi* of ``values`` over the areas of ``graph`` (binary weights, self included).

    The analytical z-score is used (no permutations): it is what the
    standard hot-spot analysis reports, and it is deterministic and fast on
    20,000 grids. All-equal values have no variance and so no hot spots:
    every bin is 0 and z is 0 rather than NaN.
    """
    from esda import G_Local

    y = np.asarray(values, dtype=np.float64)
    if graph.n != y.size:
        raise InvalidInput(Msg("hotspots.sizes", areas=graph.n, values=y.size))
    if y.size < 3 or np.allclose(y, y[0]):
        zero = np.zeros(y.size)
        return HotSpots(zero, np.ones(y.size), np.zeros(y.size, np.int64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = G_Local(y, graph, transform="B", permutations=0, star=None)
    z = np.nan_to_num(np.asarray(result.Zs, dtype=np.float64))
    p = np.minimum(1.0, 2.0 * np.asarray(result.p_norm, dtype=np.float64))
    return HotSpots(z, p, gi_bins(z))


def gi_bins(z: Floats) -> Ints:
    """+3/+2/+1 (hot at 99/95/90 %), the negatives for cold, 0 otherwise."""
    bins = np.zeros(z.shape, dtype=np.int64)
    for level, critical in reversed(Z_CRITICAL):
        bins[z >= critical] = level
        bins[z <= -critical] = -level
    return bins


@dataclass(frozen=True)
class Heat:
    """Case counts aggregated on a square lattice: one weighted point per occupied bin."""

    x: Floats
    y: Floats
    weight: Ints
    bin_m: float


def heat_bins(
    x_m: Floats,
    y_m: Floats,
    bin_m: float = 100.0,
    max_bins: int = 20_000,
    weights: Floats | Ints | None = None,
) -> Heat:
    """Aggregate projected points (metres) into bins, growing ``bin_m`` until at most ``max_bins`` remain.

    A heat layer drawn from a million raw points is a 30 MB page that a
    leader on a slow intranet never sees; the binned one has at most
    ``max_bins`` points whatever the number of cases, and each bin's weight
    is its count, so the total is kept exactly. Points are placed at the
    mean of their bin's points, not at the bin's corner, so a busy corner
    stays where it is. With ``weights`` each point stands for that many
    cases (bins the database made): weights add up and means are weighted.
    """
    if bin_m <= 0 or max_bins < 1:
        raise InvalidInput(Msg("hotspots.heat_bins"))
    x = np.asarray(x_m, dtype=np.float64)
    y = np.asarray(y_m, dtype=np.float64)
    w = np.ones(x.size) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y, w = x[keep], y[keep], w[keep]
    if x.size == 0:
        return Heat(np.zeros(0), np.zeros(0), np.zeros(0, np.int64), bin_m)
    # start where a full lattice would just fit, so a million points need few passes
    extent = max(float(np.ptp(x)) * float(np.ptp(y)), 0.0)
    size = max(bin_m, float(np.sqrt(extent / max_bins)))
    while True:
        ix = np.floor((x - x.min()) / size).astype(np.int64)
        iy = np.floor((y - y.min()) / size).astype(np.int64)
        key = ix * (int(iy.max()) + 1) + iy
        unique, inverse = np.unique(key, return_inverse=True)
        if unique.size <= max_bins:
            break
        size *= 1.25
    inverse = inverse.ravel()
    counts = np.bincount(inverse, weights=w)
    sum_x = np.bincount(inverse, weights=x * w)
    sum_y = np.bincount(inverse, weights=y * w)
    return Heat(sum_x / counts, sum_y / counts, np.rint(counts).astype(np.int64), size)


def check_period(freq: str) -> None:
    """Refuse a period other than month or week (before any case is read)."""
    if freq not in ("month", "week"):
        raise InvalidInput(Msg("hotspots.period", freq=freq))


def period_labels(times: pd.Series, freq: str) -> pd.Series:
    """Period of each time, as a label: ``2026-05`` by month, ``2026-W19`` by ISO week.

    Times are read in China Standard Time (UTC+8 all year, no daylight
    saving): a case at 23:30 local on the last day of a month belongs to that
    month, not the next. Labels are computed for the distinct days only,
    so a million cases cost one pass of integer arithmetic.
    """
    check_period(freq)
    utc = pd.to_datetime(times, utc=True)
    local_day = (
        (utc.dt.tz_localize(None) + pd.Timedelta(hours=8)).to_numpy().astype("datetime64[D]")
    )
    days, inverse = np.unique(local_day, return_inverse=True)
    stamps = pd.DatetimeIndex(days)
    if freq == "month":
        labels = stamps.strftime("%Y-%m")
    else:
        iso = stamps.isocalendar()
        labels = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    return pd.Series(np.asarray(labels, dtype=object)[inverse.ravel()], index=times.index)
