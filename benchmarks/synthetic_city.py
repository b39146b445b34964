"""A synthetic city for benchmarks: 20,000 grids, 50,000 street segments, 1,000,000 points.

Built in the Gauss-Krüger zone of Shanghai (EPSG:4549) and returned in
CGCS2000 (EPSG:4490), like real data. Grids are the faces of a jittered
Voronoi edge network (about 15 vertices per grid, shared edges exact, so the
grids are a true coverage); streets are the edges of a second, denser
network, cut into segments of about 25 m vertices. Deterministic per seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

WORK_EPSG = 4549
ORIGIN = (480_000.0, 3_440_000.0)  # metres in EPSG:4549, near 120.8°E 31.1°N


@dataclass(frozen=True)
class City:
    grids: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    lon: np.ndarray
    lat: np.ndarray


def _jittered_network(
    rng: np.random.Generator, seeds: int, extent: shapely.Polygon, step: float
) -> np.ndarray:
    """Voronoi edges of random seeds and the outline, noded, with inner vertices nudged."""
    minx, miny, maxx, maxy = extent.bounds
    pts = np.column_stack([rng.uniform(minx, maxx, seeds), rng.uniform(miny, maxy, seeds)])
    edges = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=extent, only_edges=True)
    lines = shapely.get_parts(shapely.intersection(edges, extent))
    lines = shapely.get_parts(lines[shapely.get_type_id(lines) != 0])
    # node with the outline so that every junction is an end point that stays put
    lines = shapely.get_parts(shapely.node(shapely.union_all(np.r_[lines, [extent.exterior]])))
    lines = lines[shapely.length(lines) > 0]
    dense = shapely.segmentize(lines, step)
    coords, idx = shapely.get_coordinates(dense, return_index=True)
    inner = np.r_[False, idx[1:] == idx[:-1]] & np.r_[idx[:-1] == idx[1:], False]
    coords[inner] += rng.normal(0.0, step * 0.05, (int(inner.sum()), 2))
    return shapely.linestrings(coords, indices=idx)


def _to_cgcs2000(geoms: np.ndarray) -> gpd.GeoSeries:
    return gpd.GeoSeries(geoms, crs=WORK_EPSG).to_crs(4490)


def build_city(
    grids: int = 20_000, streets: int = 50_000, points: int = 1_000_000, seed: int = 7
) -> City:
    """The benchmark city; about 0.1 km² per grid, so 20,000 grids span ~45 km."""
    rng = np.random.default_rng(seed)
    side = float(np.sqrt(grids * 100_000.0))
    extent = shapely.box(ORIGIN[0], ORIGIN[1], ORIGIN[0] + side, ORIGIN[1] + side)
    network = _jittered_network(rng, grids, extent, 30.0)
    faces = shapely.get_parts(shapely.polygonize(network))
    faces = faces[shapely.area(faces) > 1.0]
    grid_frame = gpd.GeoDataFrame(
        {
            "code": [f"G{i:05d}" for i in range(len(faces))],
            "name": [f"网格{i:05d}" for i in range(len(faces))],
            "parent_code": "U1",
            "team": [f"T{i % 400:03d}" for i in range(len(faces))],
        },
        geometry=_to_cgcs2000(faces),
    )
    street_lines = _jittered_network(rng, max(streets // 3, 1), extent, 25.0)
    street_lines = street_lines[rng.permutation(len(street_lines))[:streets]]
    street_frame = gpd.GeoDataFrame(
        {
            "code": [f"S{i:05d}" for i in range(len(street_lines))],
            "name": [f"路{i % 900:03d}" for i in range(len(street_lines))],
            "parent_code": "",
        },
        geometry=_to_cgcs2000(street_lines),
    )
    lon, lat = _random_points(rng, grid_frame.total_bounds, points)
    return City(grid_frame, street_frame, lon, lat)


def _random_points(
    rng: np.random.Generator, bounds: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points over the city's bounding box grown by 2 % (some fall outside)."""
    minx, miny, maxx, maxy = bounds
    mx, my = (maxx - minx) * 0.02, (maxy - miny) * 0.02
    return rng.uniform(minx - mx, maxx + mx, n), rng.uniform(miny - my, maxy + my, n)


# ---- the levels above the grids: towns (街镇) as unions of grids, districts of towns --------


@dataclass(frozen=True)
class Territory:
    """A city's levels in CGCS2000: city ⊃ 16 districts ⊃ ~14 towns each ⊃ grids.

    ``grids`` carry ``town`` and ``district`` columns (indexes into ``towns`` and
    ``districts``); every grid lies in exactly one town and every town in one
    district by construction (unions of whole grids), so the levels tile exactly.
    """

    city: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame

    def layers(self, district: int | None = None) -> dict[str, gpd.GeoDataFrame]:
        """The service's layers (jurisdiction, towns, units, grids) of the whole city or of
        one district; one unit per town (the grids' parent), as a small town has."""
        towns, grids = self.towns, self.grids
        if district is None:
            top = self.city
        else:
            top = self.districts.iloc[[district]]
            towns = towns[towns["district"] == district]
            grids = grids[grids["district"] == district]
        top_code = str(top["code"].iloc[0])
        jurisdiction = gpd.GeoDataFrame(
            {"code": [top_code], "name": [str(top["name"].iloc[0])], "parent_code": [""]},
            geometry=list(top.geometry),
            crs=top.crs,
        )
        town_layer = gpd.GeoDataFrame(
            {
                "code": towns["code"].to_numpy(),
                "name": towns["name"].to_numpy(),
                "parent_code": top_code,
                "district": towns["district_code"].to_numpy(),
            },
            geometry=towns.geometry.to_numpy(),
            crs=towns.crs,
        )
        units = town_layer.assign(
            code=town_layer["code"] + "U1",
            name=town_layer["name"] + "单元",
            parent_code=town_layer["code"],
        ).drop(columns="district")
        grid_layer = gpd.GeoDataFrame(
            {
                "code": grids["code"].to_numpy(),
                "name": grids["name"].to_numpy(),
                "parent_code": self.towns["code"].to_numpy()[grids["town"].to_numpy()] + "U1",
                "team": grids["team"].to_numpy(),
            },
            geometry=grids.geometry.to_numpy(),
            crs=grids.crs,
        )
        return {
            "jurisdiction": jurisdiction,
            "towns": town_layer,
            "units": units,
            "grids": grid_layer,
        }


def _nearest(points: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Index of the nearest seed of each point (blocks of points: memory stays small)."""
    out = np.empty(len(points), dtype=np.int64)
    for i in range(0, len(points), 4096):
        block = points[i : i + 4096]
        out[i : i + 4096] = ((block[:, None, :] - seeds[None, :, :]) ** 2).sum(-1).argmin(1)
    return out


def build_territory(
    grids: int = 20_000, districts: int = 16, towns_per_district: int = 14, seed: int = 7
) -> Territory:
    """The benchmark city's grids grouped into towns and the towns into districts.

    Districts: the grids nearest each of ``districts`` random seeds; towns: within a
    district, the grids nearest each of ``towns_per_district`` seeds drawn among its
    grids. Grid codes are their town's code + a number, teams one per ~12 grids.
    """
    city = build_city(grids=grids, streets=1, points=1, seed=seed)
    rng = np.random.default_rng(seed + 1)
    frame = city.grids
    centres = shapely.get_coordinates(frame.to_crs(WORK_EPSG).geometry.centroid)
    lo, hi = centres.min(0), centres.max(0)
    district_of = _nearest(centres, rng.uniform(lo, hi, (districts, 2)))
    town_of = np.empty(len(frame), dtype=np.int64)
    town_rows: list[tuple[int, str, str, str]] = []
    for d in range(districts):
        members = np.flatnonzero(district_of == d)
        if len(members) == 0:
            continue
        k = min(towns_per_district, len(members))
        seeds = centres[rng.choice(members, k, replace=False)]
        local = _nearest(centres[members], seeds)
        for t in range(k):
            town_of[members[local == t]] = len(town_rows) + t
        district_code = f"3101{d + 1:02d}"
        town_rows += [
            (d, district_code, f"{district_code}{101 + t:03d}", f"合成{d + 1:02d}区{t + 1:02d}镇")
            for t in range(k)
        ]
    towns_used = np.unique(town_of)
    renumber = np.full(len(town_rows), -1)
    renumber[towns_used] = np.arange(len(towns_used))
    town_rows = [town_rows[i] for i in towns_used]
    town_of = renumber[town_of]
    town_codes = np.array([r[2] for r in town_rows], dtype=object)
    seq = pd.Series(np.arange(len(frame))).groupby(town_of).cumcount().to_numpy()
    grid_frame = gpd.GeoDataFrame(
        {
            "code": [f"{town_codes[t]}G{n + 1:03d}" for t, n in zip(town_of, seq, strict=True)],
            "name": [f"网格{n + 1:03d}" for n in seq],
            "team": [
                f"{town_codes[t]}W{n // 12 + 1:02d}" for t, n in zip(town_of, seq, strict=True)
            ],
            "town": town_of,
            "district": np.array([r[0] for r in town_rows])[town_of],
        },
        geometry=frame.geometry.to_numpy(),
        crs=frame.crs,
    )
    town_geoms = shapely.coverage_union_all  # exact: the grids are a coverage
    town_frame = gpd.GeoDataFrame(
        {
            "code": town_codes,
            "name": [r[3] for r in town_rows],
            "district": [r[0] for r in town_rows],
            "district_code": [r[1] for r in town_rows],
        },
        geometry=[
            town_geoms(grid_frame.geometry.to_numpy()[town_of == t]) for t in range(len(town_rows))
        ],
        crs=frame.crs,
    )
    used = sorted({r[0] for r in town_rows})
    district_frame = gpd.GeoDataFrame(
        {
            "code": [f"3101{d + 1:02d}" for d in used],
            "name": [f"合成{d + 1:02d}区" for d in used],
        },
        geometry=[
            town_geoms(town_frame.geometry.to_numpy()[town_frame["district"] == d]) for d in used
        ],
        crs=frame.crs,
    )
    # districts renumbered 0..n-1 in the order of ``district_frame``
    back = {d: i for i, d in enumerate(used)}
    town_frame["district"] = town_frame["district"].map(back)
    grid_frame["district"] = grid_frame["district"].map(back)
    city_frame = gpd.GeoDataFrame(
        {"code": ["310100"], "name": ["合成市"]},
        geometry=[town_geoms(district_frame.geometry.to_numpy())],
        crs=frame.crs,
    )
    return Territory(city_frame, district_frame, town_frame, grid_frame)
