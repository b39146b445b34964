"""Use cases shared by the API and the CLI."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gridsvc.core.crs import InputCRS, parse_crs
from gridsvc.core.errors import UnknownCRS, form_field
from gridsvc.core.matching import INVALID, Matcher
from gridsvc.pointfiles import PointTable

if TYPE_CHECKING:
    from gridsvc.core.layers import LayerKind
    from gridsvc.town import Town

log = logging.getLogger("gridsvc.matching")


def cell(value: Any) -> Any:
    """A match-frame cell as a plain value: missing (None, NaN, pandas NA) becomes None."""
    return None if value is None or pd.isna(value) else value


BULK_CHUNK = 100_000  # points matched per step: bounds memory and paces progress reports


def match_table(
    matcher: Matcher,
    points: PointTable,
    crs: InputCRS | str,
    on_progress: Callable[[int], None] | None = None,
    lang: str = "en",
) -> pd.DataFrame:
    """Match every row; the input columns plus the match columns plus ``lon_cgcs2000``/``lat_cgcs2000``.

    ``crs`` is one CRS for all rows, or the name of a column that names each
    row's CRS (phones send GCJ-02, GPS units WGS-84, in one export). A row
    whose CRS is unknown is ``invalid``, the others are still matched. The ``reason``
    column is in ``lang``.
    """
    per_row = _row_crs(points, crs)
    parts = []
    for start in range(0, len(points.x), BULK_CHUNK):
        stop = min(start + BULK_CHUNK, len(points.x))
        parts.extend(_match_chunk(matcher, points, per_row, (start, stop), lang))
        if on_progress:
            on_progress(stop - start)
    matched = pd.concat(parts).sort_index() if parts else _empty(matcher)
    rows = points.rows.reset_index(drop=True)
    # keep every input column; one named like a match column is kept as input_<name>
    rows = rows.rename(columns={c: f"input_{c}" for c in rows.columns if c in matched.columns})
    return pd.concat([rows, matched.reset_index(drop=True)], axis=1)


def _row_crs(points: PointTable, crs: InputCRS | str) -> np.ndarray:
    if isinstance(crs, InputCRS):
        return np.full(len(points.x), crs.label, dtype=object)
    return points.rows[crs].astype(str).str.strip().to_numpy(dtype=object)


def _match_chunk(
    matcher: Matcher, points: PointTable, per_row: np.ndarray, rows: tuple[int, int], lang: str
) -> list[pd.DataFrame]:
    start, stop = rows
    labels = per_row[start:stop]
    frames = []
    for label in pd.unique(labels):
        idx = start + np.flatnonzero(labels == label)
        try:
            crs = parse_crs(str(label))
        except UnknownCRS as exc:
            frames.append(_invalid(matcher, idx, exc.render(form_field, lang)))
            continue
        table = matcher.match_points(points.x[idx], points.y[idx], crs)
        frame = matcher.frame(table, lang).set_index(pd.Index(idx))
        invalid = table.status == INVALID  # no trustworthy position: written without geometry
        frame["lon_cgcs2000"] = np.where(invalid, np.nan, table.lon)
        frame["lat_cgcs2000"] = np.where(invalid, np.nan, table.lat)
        frames.append(frame)
    return frames


def _empty(matcher: Matcher) -> pd.DataFrame:
    frame = matcher.frame(matcher.match_points([], []))
    frame["lon_cgcs2000"], frame["lat_cgcs2000"] = [], []
    return frame


def _invalid(matcher: Matcher, idx: np.ndarray, reason: str) -> pd.DataFrame:
    frame = pd.DataFrame({c: None for c in _empty(matcher).columns}, index=pd.Index(idx))
    frame["status"], frame["reason"] = INVALID, reason
    frame["lon_cgcs2000"], frame["lat_cgcs2000"] = np.nan, np.nan
    return frame


def shared_matcher(
    town: Town,
    versions: Mapping[LayerKind, int],
    street_radius_m: float,
    cell_m: float,
    cache_dir: Path | None,
) -> Matcher:
    """The town's matcher, its indexes read from ``cache_dir`` when built there before.

    Why: every server process (uvicorn's workers, each restart, each refresh after a
    publish) built the same city's cell trees and street index, seconds of CPU and
    some 200 MB each. Now the first process to need a layer set builds it and writes
    its tables (the others wait on a lock, then read them); every process maps the
    same file, whose pages the host shares. A missing, stale or damaged file is built
    and written again (gridsvc.store.index_cache); a directory that cannot be written
    only costs the build. ``cache_dir`` None: build, as before.
    """
    from gridsvc.store import index_cache

    if cache_dir is None:
        return town.matcher(street_radius_m, cell_m)
    key = index_cache.layers_key(town.layers, versions, street_radius_m, cell_m)
    path = index_cache.file_for(cache_dir, key)
    tables = index_cache.read(path, key)
    if tables is not None:
        return town.matcher(street_radius_m, cell_m, tables=tables)
    try:
        with index_cache.locked(cache_dir, key):
            tables = index_cache.read(path, key)  # another worker may have written it
            if tables is not None:
                return town.matcher(street_radius_m, cell_m, tables=tables)
            matcher = town.matcher(street_radius_m, cell_m)
            index_cache.write(path, key, matcher.tables())
            index_cache.prune(cache_dir, keep=path)
    except OSError as exc:
        log.warning(
            "index cache in %s not usable (%s); this process builds its own", cache_dir, exc
        )
        return town.matcher(street_radius_m, cell_m)
    # the tables just built are dropped for the file's: every process then shares one copy
    return town.matcher(
        street_radius_m, cell_m, tables=index_cache.read(path, key) or matcher.tables()
    )
