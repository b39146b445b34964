"""Planners redraw boundaries: upload a draft, validate it, preview its impact, publish it.

A draft is stored as a version that matching never sees. Its impact is the
re-match of every open case and every case of the last 90 days under the
draft (the same bulk matcher as everything else), so the preview is exactly
what publishing will do. Publishing is one transaction: the draft becomes the
active version, the old one is retired, and open cases whose grid or team
changes are reassigned, each with an event in its history.
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine

from gridsvc.core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidLayer,
    PayloadTooLarge,
    StaleVersion,
)
from gridsvc.core.layers import Layer, LayerKind, parent_kind
from gridsvc.core.matching import containing
from gridsvc.core.measures import area_km2, street_km
from gridsvc.core.redraw import rematch, unchanged_map
from gridsvc.core.repair import apply_repairs
from gridsvc.core.splicing import features_equal, part_of
from gridsvc.core.validation import SLIVER_M2, code_problems, validate_layer
from gridsvc.layerio import read_layer
from gridsvc.services import town_drafts
from gridsvc.services.layers import StoredLayers
from gridsvc.services.matching import cell
from gridsvc.store import cases as case_store
from gridsvc.store import reference

IMPACT_WINDOW = timedelta(days=90)
PUBLISH_TRIES = 5  # splices onto another town's newer layer before a publish gives up
MAX_UNZIPPED = 500 * 1024 * 1024  # a zip that would unpack to more is refused (zip bomb)
MAX_RATIO = 200  # nor one that compresses suspiciously well
UPLOAD_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".fgb")
MATCHED_KINDS = (LayerKind.GRIDS, LayerKind.UNITS, LayerKind.COMMITTEES)
LEVEL_FIELD = {
    LayerKind.GRIDS: "grid_code",
    LayerKind.UNITS: "unit_code",
    LayerKind.COMMITTEES: "committee_code",
}


@dataclass(frozen=True)
class Upload:
    """An uploaded layer file and how to read it."""

    filename: str
    data: bytes
    layer: str | None = None
    code_field: str = "code"
    name_field: str = "name"
    parent_field: str = "parent_code"
    encoding: str | None = None
    crs: str | None = None


def read_upload(kind: LayerKind, upload: Upload, max_bytes: int) -> Layer:
    """Read an uploaded file safely (size, zip bombs, type) into a Layer; nothing is stored."""
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise InvalidInput(
            f"{upload.filename!r}: upload GeoJSON, GeoPackage, a zipped Shapefile or FlatGeobuf"
        )
    if len(upload.data) > max_bytes:
        raise PayloadTooLarge(f"the upload is larger than {max_bytes:,} bytes")
    with tempfile.TemporaryDirectory(prefix="gridsvc-upload-") as tmp:
        path = Path(tmp) / f"upload{suffix}"  # never the client's name: no path escapes
        path.write_bytes(upload.data)
        if suffix == ".zip":
            _check_zip(path)
        return read_layer(
            path,
            kind,
            layer=upload.layer,
            code_field=upload.code_field,
            name_field=upload.name_field,
            parent_field=upload.parent_field,
            encoding=upload.encoding,
            crs=upload.crs,
        )


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise InvalidInput("the upload is not a readable zip archive") from exc
    unpacked = sum(m.file_size for m in members)
    packed = max(sum(m.compress_size for m in members), 1)
    if unpacked > MAX_UNZIPPED or unpacked / packed > MAX_RATIO:
        raise InvalidInput(
            f"the zip would unpack to {unpacked:,} bytes ({unpacked / packed:.0f}× its size); refused"
        )
    for member in members:
        name = member.filename
        if name.startswith(("/", "\\\\")) or ".." in Path(name).parts:
            raise InvalidInput(f"the zip holds a path outside the archive: {name!r}")


class Planning:
    """Drafts, validation, impact and publication over the database."""

    def __init__(self, engine: Engine, sliver_m2: float = SLIVER_M2) -> None:
        self.engine = engine
        self.sliver_m2 = sliver_m2  # gaps and overlaps under this are slivers (close_slivers)
        self._stored = StoredLayers()

    def add_draft(
        self,
        layer: Layer,
        label: str,
        repairs: tuple[str, ...] = (),
        town: str | None = None,
    ) -> dict[str, Any]:
        """Store a draft (repaired only as asked) and answer with its validation report.

        A draft is stored feature by code, so a layer with a missing or repeated
        code is refused as a whole (422, each such code listed) before anything
        is written; every other problem is stored with the draft and reported.
        A town's planner (``town``) uploads its town's features only: they are
        spliced into the active layer (``services.town_drafts``).
        """
        town_drafts.check_kind(layer.kind, town)
        unstorable = code_problems(layer)
        if unstorable:
            raise InvalidLayer(
                f"{len(unstorable)} code problem(s) in the {layer.kind} layer; every feature "
                f"needs a code of its own before it can be a draft. First: {unstorable[0].message}",
                problems=unstorable,
            )
        parent = None
        if "close_slivers" in repairs:
            with self.engine.connect() as conn:
                parent = self._parent_of(self._active(conn), layer.kind)
        layer, applied = apply_repairs(layer, repairs, parent, self.sliver_m2)
        uploaded, based_on = len(layer), None
        if town is not None:
            with self.engine.connect() as conn:
                versions, active = self._stored.active(conn)
            layer, based_on = town_drafts.spliced_upload(
                layer, town, active, versions, self.sliver_m2
            )
        with self.engine.begin() as conn:
            draft_id = reference.add_draft(conn, layer, label, datetime.now(UTC), town, based_on)
        return {
            "id": draft_id,
            "kind": layer.kind.value,
            "label": label,
            "town": town,
            "features": len(layer),
            "uploaded": uploaded,
            "validation": self.validation(layer.kind, draft_id, town),
            "repairs": [r.to_dict() for r in applied],
        }

    def _row(
        self, conn: Connection, kind: LayerKind, draft_id: int, town: str | None
    ) -> dict[str, Any]:
        """The draft's version row; a town's planner sees its own town's drafts only."""
        row = town_drafts.check_visible(reference.version_row(conn, draft_id), kind, draft_id, town)
        if row["status"] != "draft":
            raise Conflict(f"version {draft_id} is {row['status']}, not a draft")
        return row

    def _draft(
        self, conn: Connection, kind: LayerKind, draft_id: int, town: str | None = None
    ) -> Layer:
        """The draft as publishing it now would make the layer (a town's draft spliced onto
        the active layer again, when another town published since). Read from the
        database each time: a draft changes (OGC edits, a splice), a published version never."""
        row = self._row(conn, kind, draft_id, town)
        draft = reference.load_layer(conn, kind, draft_id)
        if row["town_code"] is None:
            return draft
        versions, active = self._stored.active(conn)
        return town_drafts.on_active(conn, self._stored, row, draft, active, versions)[0]

    def _active(self, conn: Connection) -> dict[LayerKind, Layer]:
        return self._stored.active(conn)[1]

    @staticmethod
    def _parent_of(active: dict[LayerKind, Layer], kind: LayerKind) -> Layer | None:
        """The active layer ``kind`` nests in: a district's towns for its units, else the
        jurisdiction (the levels the territory has decide, see ``kinds.parent_kind``)."""
        above = parent_kind(kind, active)
        return active.get(above) if above is not None else None

    def active_version(self, kind: LayerKind) -> int | None:
        """The id of the active version of ``kind`` (None before its first publish)."""
        with self.engine.connect() as conn:
            return reference.active_versions(conn).get(kind)

    def layers(
        self, kind: LayerKind, draft_id: int, town: str | None = None
    ) -> tuple[Layer | None, Layer]:
        """The active layer of ``kind`` (None before the first publish) and the draft."""
        with self.engine.connect() as conn:
            return self._active(conn).get(kind), self._draft(conn, kind, draft_id, town)

    def validation(self, kind: LayerKind, draft_id: int, town: str | None = None) -> dict[str, Any]:
        """Every problem of the draft, checked against the active parent level."""
        with self.engine.connect() as conn:
            draft = self._draft(conn, kind, draft_id, town)
            active = self._active(conn)
        parent = self._parent_of(active, kind)
        problems = validate_layer(draft, parent, self.sliver_m2)
        return {
            "blocking": sum(p.blocking for p in problems),
            "problems": [p.to_dict() for p in problems],
        }

    def impact(self, kind: LayerKind, draft_id: int, town: str | None = None) -> dict[str, Any]:
        """What publishing the draft changes: features, and every case that would move.
        A town's draft changes that town's cases alone: only they are checked and listed,
        and the workload rows are that town's grids."""
        with self.engine.connect() as conn:
            drafted_by = self._row(conn, kind, draft_id, town)["town_code"]
            draft = self._draft(conn, kind, draft_id, town)
            active = self._active(conn)
            since = datetime.now(UTC) - IMPACT_WINDOW
            cases = _columns(case_store.cases_for_rematch(conn, since))
        if drafted_by is not None:
            cases = _of_town(cases, drafted_by)
        after = _rematched(kind, active, draft, cases)
        workload = (
            _workload(active.get(kind), draft, cases, after, active.get(LayerKind.STREETS))
            if kind == LayerKind.GRIDS
            else []
        )
        if drafted_by is not None and workload:
            towns = town_drafts.towns_of(active, drafted_by)
            mine = set(part_of(draft, drafted_by, towns).codes.astype(str))
            if active.get(kind) is not None:
                mine |= set(part_of(active[kind], drafted_by, towns).codes.astype(str))
            workload = [w for w in workload if w["grid_code"] in mine]
        return {
            "town": drafted_by,
            "features": _feature_changes(active.get(kind), draft),
            "moved_cases": _moved(cases, after),
            "cases_checked": len(cases["id"]),
            "workload": workload,
        }

    def publish(
        self,
        kind: LayerKind,
        draft_id: int,
        draft_etag: int,
        active_etag: int | None,
        town: str | None = None,
    ) -> dict[str, Any]:
        """Make the draft active and reassign the open cases it moves, in one transaction.

        Publishes of a kind take turns (``reference.publish_turn``). A town's draft
        whose base another town replaced meanwhile is spliced onto the new active
        layer (validated and previewed again) instead of refused; If-Match's active
        version may then be an older one, as long as this town's features are the
        same in it as in the active layer (412 otherwise).
        """
        if draft_etag != draft_id:
            raise StaleVersion(f"If-Match names draft {draft_etag}, not {draft_id}")
        for _ in range(PUBLISH_TRIES):
            with self.engine.connect() as conn:
                row = self._row(conn, kind, draft_id, town)
                seen = reference.active_versions(conn).get(kind)
            if row["town_code"] is not None:
                self._respliced(kind, row)
            report = self.validation(kind, draft_id, town)
            if report["blocking"]:
                raise InvalidLayer(
                    f"draft {draft_id} has {report['blocking']} blocking problem(s)",
                    problems=[_Shown(p) for p in report["problems"]],
                )
            preview = self.impact(kind, draft_id, town)
            now = datetime.now(UTC)
            with self.engine.begin() as conn:
                reference.publish_turn(conn, kind)
                current = reference.active_versions(conn).get(kind)
                if row["town_code"] is None:
                    if current != active_etag:
                        raise StaleVersion(
                            f"the active {kind.value} version is {current}, not {active_etag}; "
                            "preview again"
                        )
                elif current != seen:
                    continue  # another town published meanwhile: splice onto it again
                else:
                    self._check_seen(conn, kind, row["town_code"], active_etag, current)
                if (reference.version_row(conn, draft_id) or {}).get("status") != "draft":
                    raise Conflict(f"draft {draft_id} was published meanwhile")
                reference.promote(conn, kind, draft_id, now)
                reassigned = [m for m in preview["moved_cases"] if m["open"]]
                case_store.reassign_cases(conn, reassigned, kind.value, draft_id, now)
            return {
                "published": draft_id,
                "retired": current,
                "reassigned": len(reassigned),
                "town": row["town_code"],
            }
        raise Conflict(
            f"the {kind.value} layer was published {PUBLISH_TRIES} times while draft "
            f"{draft_id} was being published; try again"
        )

    def _respliced(self, kind: LayerKind, row: dict[str, Any]) -> None:
        """Store a town draft spliced onto the active layer, when another town published
        since it was spliced (409 when that publish changed this town's features)."""
        with self.engine.begin() as conn:
            reference.publish_turn(conn, kind)
            versions, active = self._stored.active(conn)
            row = reference.version_row(conn, row["id"]) or row
            draft = reference.load_layer(conn, kind, row["id"])
            layer, changed = town_drafts.on_active(conn, self._stored, row, draft, active, versions)
            if changed:
                reference.replace_draft(conn, row["id"], layer, versions[kind])

    def _check_seen(
        self, conn: Connection, kind: LayerKind, town: str, seen: int | None, current: int | None
    ) -> None:
        """A town's If-Match may name an older active version, if this town's features
        are the same in it as in the active one (other towns published since)."""
        if seen == current:
            return
        if seen is None or current is None or reference.version_kind(conn, seen) != kind:
            raise StaleVersion(
                f"the active {kind.value} version is {current}, not {seen}; preview again"
            )
        active = self._stored.active(conn)[1]
        towns = town_drafts.towns_of(active, town)
        same = features_equal(
            part_of(self._stored.get(conn, kind, seen), town, towns),
            part_of(active[kind], town, towns),
        )
        if not same:
            raise StaleVersion(
                f"town {town}'s {kind.value} changed between version {seen}, which you "
                f"previewed against, and the active version {current}; preview again",
                town=town,
            )

    def rollback(
        self, kind: LayerKind, active_etag: int | None, town: str | None = None
    ) -> dict[str, Any]:
        """Make the previous version active again, as a new version (history keeps both).
        The district's alone: a town's planner gets a 403."""
        if town is not None:
            raise Forbidden(
                f"a rollback replaces the whole {kind.value} layer, every town's; a planner's "
                f"key scoped to town {town} cannot make one. Export the version you want "
                f"(GET /api/v1/layers/{kind.value}/versions/<id>.gpkg), keep town {town}'s "
                "features and upload them as a draft"
            )
        with self.engine.connect() as conn:
            current = reference.active_versions(conn).get(kind)
            previous = reference.previous_version(conn, kind)
            if previous is None:
                raise Conflict(f"the {kind.value} layer has no earlier version to roll back to")
            layer = reference.load_layer(conn, kind, previous)
        if current != active_etag:
            raise StaleVersion(f"the active {kind.value} version is {current}, not {active_etag}")
        with self.engine.begin() as conn:
            draft_id = reference.add_draft(
                conn, layer, f"rollback to version {previous}", datetime.now(UTC)
            )
        return {**self.publish(kind, draft_id, draft_id, active_etag), "restored": previous}


class _Shown:
    """A problem already rendered as a dict, for InvalidLayer's list."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def to_dict(self) -> dict[str, Any]:
        return self.data


PLACE = ("grid_code", "unit_code", "committee_code", "team", "town_code")
CASE_COLUMNS = ("id", "number", "status", "lon", "lat", *PLACE)


Columns = dict[str, np.ndarray]


def _columns(rows: list[tuple[Any, ...]]) -> Columns:
    """The cases as one array per column: object arrays keep None as None (pandas makes NaN)."""
    out = {  # one C-level pass per column: a Python transpose of a million rows takes seconds
        name: np.fromiter(map(itemgetter(k), rows), dtype=object, count=len(rows))
        for k, name in enumerate(CASE_COLUMNS)
    }
    for name in ("lon", "lat"):
        out[name] = out[name].astype(np.float64)
    return out


def _of_town(cases: Columns, town: str) -> Columns:
    """The cases of one town (what a town's redraw may move)."""
    rows = np.flatnonzero(cases["town_code"] == town)
    return {name: column[rows] for name, column in cases.items()}


def _places(cases: Columns) -> Columns:
    """A copy of each place column (grid, unit, committee, team)."""
    return {name: cases[name].copy() for name in PLACE}


def _rematched(
    kind: LayerKind, active: dict[LayerKind, Layer], draft: Layer, cases: Columns
) -> Columns:
    """Each case's place (grid, unit, committee, team, town) under the draft, as columns.

    Only points in polygons the draft changes are matched again (core/redraw.py); a
    case keeps its place where the draft leaves no polygon over it (a report allowed
    just outside keeps its nearest grid). Whole columns at once: a district's
    million cases cost a few numpy passes, not a million dicts.
    """
    after = _places(cases)
    if len(cases["id"]) == 0:
        return after
    if kind in MATCHED_KINDS:
        _rematch_level(kind, active, draft, cases, after)
    if kind in (LayerKind.GRIDS, LayerKind.TOWNS):
        _retown(kind, active, draft, after)
    return after


def _retown(kind: LayerKind, active: dict[LayerKind, Layer], draft: Layer, after: Columns) -> None:
    """A case's town is its grid's: a redraw of the grids or of the towns moves it to the
    town its (new) grid lies in. Nothing changes where there is no towns layer."""
    grids = draft if kind == LayerKind.GRIDS else active.get(LayerKind.GRIDS)
    towns = draft if kind == LayerKind.TOWNS else active.get(LayerKind.TOWNS)
    if grids is None or towns is None:
        return
    town_of_grid = containing(grids, towns)
    town_codes = towns.frame["code"].astype(str).to_numpy(dtype=object)
    grid_index = pd.Index(grids.frame["code"].astype(str)).get_indexer(
        [c or "" for c in after["grid_code"]]
    )
    hit = grid_index >= 0
    town = town_of_grid[grid_index[hit]]
    found = town >= 0
    rows = np.flatnonzero(hit)[found]
    after["town_code"][rows] = town_codes[town[found]]


def _rematch_level(
    kind: LayerKind,
    active: dict[LayerKind, Layer],
    draft: Layer,
    cases: Columns,
    after: Columns,
) -> None:
    """The polygon level ``kind`` matched again where the draft changes it (in ``after``)."""
    field = LEVEL_FIELD[kind]
    old = active.get(kind)
    old_codes = (
        old.frame["code"].astype(str).to_numpy() if old is not None else np.array([], dtype=str)
    )
    old_geoms = old.frame.geometry.to_numpy() if old is not None else np.array([], dtype=object)
    new_codes = draft.frame["code"].astype(str).to_numpy()
    new_geoms = draft.frame.geometry.to_numpy()
    same = unchanged_map(old_codes, old_geoms, new_codes, new_geoms)
    before = pd.Index(old_codes).get_indexer([c or "" for c in cases[field]])
    lon, lat = cases["lon"], cases["lat"]
    index = rematch(before, lon, lat, same, new_codes, new_geoms)
    hit = index >= 0
    after[field][hit] = new_codes[index[hit]]
    if kind == LayerKind.GRIDS:
        teams = np.array([cell(t) for t in draft.frame["team"].to_numpy()], dtype=object)
        after["team"][hit] = [None if t is None else str(t) for t in teams[index[hit]]]


def _moved(cases: Columns, after: Columns) -> list[dict[str, Any]]:
    """The cases whose place changes, each with where it was and where it goes."""
    was = _places(cases)
    differs = np.zeros(len(cases["id"]), dtype=bool)
    for name in PLACE:
        differs |= was[name] != after[name]
    rows = np.flatnonzero(differs)
    ids, numbers, statuses = (cases[c][rows].tolist() for c in ("id", "number", "status"))
    lons, lats = (cases[c][rows].tolist() for c in ("lon", "lat"))
    before = {k: was[k][rows].tolist() for k in PLACE}
    now = {k: after[k][rows].tolist() for k in PLACE}
    return [
        {
            "id": ids[n],
            "number": numbers[n],
            "lon": lons[n],
            "lat": lats[n],
            "status": statuses[n],
            "open": statuses[n] not in case_store.OPEN_EXCLUDED,
            "from": {k: before[k][n] for k in PLACE},
            "to": {k: now[k][n] for k in PLACE},
        }
        for n in range(len(rows))
    ]


#: how far (metres) a vertex may move before a shape counts as changed
JITTER_M = 0.01


def _feature_changes(active: Layer | None, draft: Layer) -> dict[str, Any]:
    """Features added, removed and changed by code, with area and perimeter changes (m²/m).

    Compared in bulk (shapely's vectorised ``equals`` over the codes both
    versions have): a district's 20,000 grids take a fraction of a second.
    A shape whose every vertex lies within ``JITTER_M`` of the old one (a
    file that went through another GIS and back, its coordinates rounded)
    has not changed: no planner moved a boundary by a millimetre.
    """
    epsg = draft.work_epsg()
    new = draft.projected(epsg).set_index("code")
    old = active.projected(epsg).set_index("code") if active is not None else new.iloc[0:0]
    common = sorted(set(old.index) & set(new.index))
    a, b = old.loc[common], new.loc[common]
    a_geoms, b_geoms = a.geometry.to_numpy(), b.geometry.to_numpy()
    same_shape = shapely.equals(a_geoms, b_geoms)
    unequal = np.flatnonzero(~same_shape)
    moved = shapely.hausdorff_distance(a_geoms[unequal], b_geoms[unequal])
    same_shape[unequal] = moved <= JITTER_M
    same_attrs = np.ones(len(common), dtype=bool)
    for name in ("name", "parent_code", "team"):
        left = a[name].to_numpy(dtype=object) if name in a else np.full(len(common), None)
        right = b[name].to_numpy(dtype=object) if name in b else np.full(len(common), None)
        same_attrs &= np.array([x == y for x, y in zip(left, right, strict=True)], dtype=bool)
    area = shapely.area(b_geoms) - shapely.area(a_geoms)
    length = shapely.length(b_geoms) - shapely.length(a_geoms)
    changed = [
        {
            "code": code,
            "area_change_m2": round(float(area[i]), 1),
            "perimeter_change_m": round(float(length[i]), 1),
            "geometry_changed": not bool(same_shape[i]),
            "attributes_changed": not bool(same_attrs[i]),
        }
        for i, code in enumerate(common)
        if not (same_shape[i] and same_attrs[i])
    ]
    return {
        "added": sorted(set(new.index) - set(old.index)),
        "removed": sorted(set(old.index) - set(new.index)),
        "changed": changed,
    }


def _workload(
    active: Layer | None,
    draft: Layer,
    cases: Columns,
    rematched: Columns,
    streets: Layer | None = None,
) -> list[dict[str, Any]]:
    """Per grid, before and after: cases per month (last 90 days), open cases, area, street km."""
    epsg = draft.work_epsg()
    before = pd.Series(cases["grid_code"], dtype=object)
    after = pd.Series(rematched["grid_code"], dtype=object)
    open_mask = ~np.isin(cases["status"].astype(str), case_store.OPEN_EXCLUDED)
    months = IMPACT_WINDOW.days / 30.0
    # one counting pass per column: a comparison per grid would be grids × cases
    per_grid = {
        "before": before.value_counts(),
        "after": after.value_counts(),
        "open_before": before[open_mask].value_counts(),
        "open_after": after[open_mask].value_counts(),
    }
    areas_new = area_km2(draft, epsg)
    areas_old = area_km2(active, epsg) if active is not None else {}
    km_new = street_km(draft, streets, epsg)
    km_old = street_km(active, streets, epsg) if active is not None else {}
    rows = []
    for code in sorted(set(areas_new) | set(areas_old)):
        rows.append(
            {
                "grid_code": code,
                "area_km2_before": round(areas_old.get(code, 0.0), 4),
                "area_km2_after": round(areas_new.get(code, 0.0), 4),
                "cases_per_month_before": round(per_grid["before"].get(code, 0) / months, 1),
                "cases_per_month_after": round(per_grid["after"].get(code, 0) / months, 1),
                "open_before": int(per_grid["open_before"].get(code, 0)),
                "open_after": int(per_grid["open_after"].get(code, 0)),
                "street_km_before": round(km_old.get(code, 0.0), 3),
                "street_km_after": round(km_new.get(code, 0.0), 3),
            }
        )
    return rows
