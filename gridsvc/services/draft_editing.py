"""Live editing of a draft, one feature per request, with its problems kept current.

What QGIS's OAPIF provider does when a planner toggles editing on a draft
(OGC API – Features Part 4): create a feature, replace or patch one with the
ETag it read, delete one. Each write is one transaction in the draft's write
turn (``store.draft_features.lock_draft``): the ETag is compared there, so of
two editors who read the same version exactly one wins and the other gets a
412. After the write the draft's problems are brought up to date around the
edit only (``core.draft_edits.revalidated``); a worker that has not followed
the draft since (another worker wrote, or it just started) validates the
whole draft once. Publishing is unchanged: ``Planning.publish`` validates
everything again.

QGIS's provider sends no If-Match (it keeps no ETags), so a write without one
is checked against the ETag the writing key was last served of the feature,
or last wrote (``store.draft_features.remember``): unchanged since, it goes
ahead; changed by someone else, a 412 that names who and when; never read by
this key, a 428. The check is made in the write turn, like If-Match's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Engine

from gridsvc.core.crs import CGCS2000
from gridsvc.core.draft_edits import edit_window, feature_etag, layer_digest, revalidated
from gridsvc.core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidLayer,
    NotFound,
    PreconditionRequired,
    StaleVersion,
)
from gridsvc.core.layers import Layer, LayerKind, parent_kind
from gridsvc.core.messages import Msg
from gridsvc.core.validation import SLIVER_M2, Problem, validate_layer
from gridsvc.services import town_drafts
from gridsvc.services.layers import StoredLayers
from gridsvc.store import draft_features as store
from gridsvc.store import reference

MAX_CODE = 40  # the features table's code column


@dataclass(frozen=True)
class FeatureInput:
    """One feature as a client sends it: code, name, parent, other attributes, geometry
    (CGCS2000 lon/lat, already converted from the client's CRS)."""

    code: str
    name: str
    parent_code: str
    attrs: dict[str, Any]
    geometry: BaseGeometry

    def record(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "parent_code": self.parent_code,
            "attrs": self.attrs,
            "geom_wkb": shapely.to_wkb(self.geometry),
        }


@dataclass(frozen=True)
class Edited:
    """What a write answers: the feature's code, the feature as written (a one-feature
    layer) and its new ETag (None once deleted), and the draft's problems after it."""

    code: str
    etag: str | None
    problems: list[Problem]
    feature: Layer | None = None


@dataclass
class _Followed:
    digest: str
    layer: Layer
    problems: list[Problem]


class DraftEditor:
    """Writes single features of drafts and keeps each draft's problems."""

    def __init__(self, engine: Engine, sliver_m2: float = SLIVER_M2) -> None:
        self.engine = engine
        self.sliver_m2 = sliver_m2
        self._stored = StoredLayers()  # published parents: they never change
        self._followed: dict[int, _Followed] = {}
        self._lock = threading.Lock()

    # ---- reads ---------------------------------------------------------------------------

    def etag(self, draft_id: int, code: str) -> str:
        """The ETag of one feature of a draft (what a client sends back as If-Match)."""
        with self.engine.connect() as conn:
            self._draft_row(conn, draft_id)
            return _etag(self._feature(conn, draft_id, code))

    def read(self, draft_id: int, code: str, reader: int | None = None) -> tuple[Layer, str]:
        """One feature of a draft as a one-feature layer, and its ETag, from the same read
        (so the ETag a client gets is the version of what it was shown); recorded as the
        ETag key ``reader`` last read of it."""
        with self.engine.begin() as conn:
            row = self._draft_row(conn, draft_id)
            found = self._feature(conn, draft_id, code)
            etag = _etag(found)
            if reader is not None:
                store.remember(conn, reader, draft_id, {code: etag}, _now())
            return _layer(LayerKind(row["kind"]), [found]), etag

    def features(self, draft_id: int) -> tuple[Layer, dict[str, str]]:
        """A draft's features as stored now, and their ETags (code → ETag) from the same
        read, for :meth:`served` to record the ones a page showed."""
        with self.engine.connect() as conn:
            row = self._draft_row(conn, draft_id)
            rows = store.features(conn, draft_id)
        return _layer(LayerKind(row["kind"]), rows), {r["code"]: _etag(r) for r in rows}

    def served(self, draft_id: int, reader: int, etags: dict[str, str]) -> None:
        """Record the ETags key ``reader`` was just served (a page of items), at once."""
        with self.engine.begin() as conn:
            store.remember(conn, reader, draft_id, etags, _now())

    def problems(self, draft_id: int) -> list[Problem]:
        """The draft's problems now (the whole draft validated when not followed yet)."""
        with self.engine.connect() as conn:
            row = self._draft_row(conn, draft_id)
            rows = store.features(conn, draft_id)
            return self._follow(conn, row, rows).problems

    # ---- writes --------------------------------------------------------------------------

    def create(self, draft_id: int, new: FeatureInput, reader: int | None = None) -> Edited:
        """Add a feature; its code must be new in the draft (409 otherwise)."""
        _check_code(new.code)
        with self.engine.begin() as conn:
            row, before = self._begin(conn, draft_id)
            if store.feature(conn, draft_id, new.code) is not None:
                raise Conflict(Msg("draft.has_feature", code=new.code))
            self._town_check(conn, row, new.record())
            store.add(conn, draft_id, new.record())
            return self._after(conn, row, before, {new.code}, [new.geometry], new.code, reader)

    def replace(
        self,
        draft_id: int,
        code: str,
        new: FeatureInput,
        if_match: str | None,
        reader: int | None = None,
    ) -> Edited:
        """Overwrite a feature whose ETag the caller read (412 if it changed since); without
        ``if_match``, the ETag key ``reader`` last read of it stands in."""
        if new.code != code:
            raise InvalidInput(Msg("feature.code_is_id", fid=code, code=new.code))
        with self.engine.begin() as conn:
            row, before = self._begin(conn, draft_id)
            old = self._matching(conn, draft_id, code, if_match, reader)
            self._town_check(conn, row, new.record())
            store.replace(conn, old["id"], new.record())
            shapes = [shapely.from_wkb(old["geom_wkb"]), new.geometry]
            return self._after(conn, row, before, {code}, shapes, code, reader)

    def update(
        self,
        draft_id: int,
        code: str,
        changes: dict[str, Any],
        if_match: str | None,
        reader: int | None = None,
    ) -> Edited:
        """Change some of a feature's fields (JSON merge patch semantics: a property set to
        null is removed); ``changes`` may hold name, parent_code, attrs and geometry."""
        with self.engine.begin() as conn:
            row, before = self._begin(conn, draft_id)
            old = self._matching(conn, draft_id, code, if_match, reader)
            record = _patched(old, changes)
            self._town_check(conn, row, record)
            store.replace(conn, old["id"], record)
            shapes = [shapely.from_wkb(old["geom_wkb"]), shapely.from_wkb(record["geom_wkb"])]
            return self._after(conn, row, before, {code}, shapes, code, reader)

    def delete(
        self, draft_id: int, code: str, if_match: str | None, reader: int | None = None
    ) -> Edited:
        with self.engine.begin() as conn:
            row, before = self._begin(conn, draft_id)
            old = self._matching(conn, draft_id, code, if_match, reader)
            self._town_check(conn, row, old, deleting=True)
            store.remove(conn, old["id"])
            if reader is not None:
                store.forget(conn, reader, draft_id, code)
            shapes = [shapely.from_wkb(old["geom_wkb"])]
            return self._after(conn, row, before, {code}, shapes, None, deleted=code)

    # ---- the steps of a write ------------------------------------------------------------

    def _begin(self, conn: Connection, draft_id: int) -> tuple[dict[str, Any], _Followed]:
        """The draft's write turn, and its state before the write."""
        row = store.lock_draft(conn, draft_id)
        _check_draft(row, draft_id)
        assert row is not None
        return row, self._follow(conn, row, store.features(conn, draft_id))

    def _town_check(
        self, conn: Connection, row: dict[str, Any], record: dict[str, Any], deleting: bool = False
    ) -> None:
        """A town's draft changes that town's features only (``services.town_drafts``): a
        feature written must lie in the town and not be another town's (422 naming it); a
        feature deleted must be the town's own (403)."""
        town = row.get("town_code")
        if town is None:
            return
        active = self._stored.active(conn)[1]
        feature = _layer(LayerKind(row["kind"]), [record])
        try:
            what = Msg("town.in_draft", draft_id=row["id"])
            town_drafts.check_part(feature, town, active, self.sliver_m2, what)
        except InvalidLayer as refused:
            if not deleting:
                raise
            raise Forbidden(
                Msg("draft.not_town_feature", code=record["code"], town=town, draft_id=row["id"])
            ) from refused

    def _matching(
        self,
        conn: Connection,
        draft_id: int,
        code: str,
        if_match: str | None,
        reader: int | None,
    ) -> dict[str, Any]:
        """The feature a write changes, if the caller has seen its current version: the
        If-Match sent, else the ETag this key last read of it (held in the write turn)."""
        old = self._feature(conn, draft_id, code)
        current = _etag(old)
        if if_match is not None:
            seen = _etags_of(if_match)
        else:
            last = None if reader is None else store.last_read(conn, reader, draft_id, code)
            if last is None:
                raise PreconditionRequired(Msg("draft.if_match_needed", code=code))
            seen = {last}
        if current not in seen:
            raise _stale(conn, draft_id, code, current)
        return old

    def _after(
        self,
        conn: Connection,
        row: dict[str, Any],
        before: _Followed,
        touched: set[str],
        shapes: list[BaseGeometry],
        code: str | None,
        reader: int | None = None,
        deleted: str | None = None,
    ) -> Edited:
        """The draft's problems brought up to date around the edit; the written feature's
        new ETag recorded as what ``reader`` last read of it (QGIS does not read it again)."""
        rows = store.features(conn, row["id"])
        layer = _layer(LayerKind(row["kind"]), rows)
        parent = self._parent(conn, LayerKind(row["kind"]))
        problems = revalidated(
            layer, parent, before.problems, touched, edit_window(shapes), self.sliver_m2
        )
        followed = _Followed(layer_digest(_etag(r) for r in rows), layer, problems)
        with self._lock:
            self._followed[row["id"]] = followed
        if code is None:
            return Edited(deleted or "", None, problems)
        written = next(r for r in rows if r["code"] == code)
        etag = _etag(written)
        if reader is not None:
            store.remember(conn, reader, row["id"], {code: etag}, _now(), wrote=True)
        return Edited(code, etag, problems, _layer(LayerKind(row["kind"]), [written]))

    def _follow(
        self, conn: Connection, row: dict[str, Any], rows: list[dict[str, Any]]
    ) -> _Followed:
        """The draft as this worker last saw it, or validated whole when it differs."""
        digest = layer_digest(_etag(r) for r in rows)
        with self._lock:
            seen = self._followed.get(row["id"])
        if seen is not None and seen.digest == digest:
            return seen
        kind = LayerKind(row["kind"])
        layer = _layer(kind, rows)
        problems = validate_layer(layer, self._parent(conn, kind), self.sliver_m2)
        followed = _Followed(digest, layer, problems)
        with self._lock:
            self._followed[row["id"]] = followed
        return followed

    def _parent(self, conn: Connection, kind: LayerKind) -> Layer | None:
        active = self._stored.active(conn)[1]
        above = parent_kind(kind, active)
        return active.get(above) if above is not None else None

    def _draft_row(self, conn: Connection, draft_id: int) -> dict[str, Any]:
        row = reference.version_row(conn, draft_id)
        _check_draft(row, draft_id)
        assert row is not None
        return row

    def _feature(self, conn: Connection, draft_id: int, code: str) -> dict[str, Any]:
        found = store.feature(conn, draft_id, code)
        if found is None:
            raise NotFound(Msg("draft.no_feature", draft_id=draft_id, code=code))
        return found


def _check_draft(row: dict[str, Any] | None, draft_id: int) -> None:
    if row is None:
        raise NotFound(Msg("draft.none", draft_id=draft_id))
    if row["status"] != "draft":
        raise Conflict(Msg("draft.not_editable", draft_id=draft_id, status=row["status"]))


def _check_code(code: str) -> None:
    if not code.strip():
        raise InvalidInput(Msg("feature.no_code"))
    if len(code) > MAX_CODE:
        raise InvalidInput(Msg("feature.code_length", most=MAX_CODE, code=code[:50]))


def _etag(row: dict[str, Any]) -> str:
    return feature_etag(
        row["code"], row["name"], row["parent_code"], row["attrs"] or {}, row["geom_wkb"]
    )


def _stale(conn: Connection, draft_id: int, code: str, current: str) -> StaleVersion:
    """The 412 of a write made on an older version: who wrote the current one and when, if
    a key did over OGC (not when it came with the uploaded draft)."""
    by = store.writer(conn, draft_id, code, current)
    if by is None:
        return StaleVersion(Msg("feature.changed", code=code, etag=current), etag=current)
    name, at = by
    return StaleVersion(
        Msg("feature.changed_by", code=code, name=name, at=at, etag=current),
        etag=current,
        changed_by=name,
        changed_at=at.isoformat(),
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _etags_of(if_match: str) -> set[str]:
    """The ETags an If-Match names (quoted, weak or a list, as RFC 9110 allows)."""
    return {t.strip().removeprefix("W/").strip('"') for t in if_match.split(",")}


def _patched(old: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    record = {k: old[k] for k in store.FEATURE_COLUMNS}
    for field in ("name", "parent_code"):
        if field in changes:
            record[field] = "" if changes[field] is None else str(changes[field])
    if "attrs" in changes:
        attrs = dict(record["attrs"] or {})
        for key, value in changes["attrs"].items():
            if value is None:
                attrs.pop(key, None)
            else:
                attrs[key] = value
        record["attrs"] = attrs
    if changes.get("geometry") is not None:
        record["geom_wkb"] = shapely.to_wkb(changes["geometry"])
    return record


def _layer(kind: LayerKind, rows: list[dict[str, Any]]) -> Layer:
    records = [
        {
            "code": r["code"],
            "name": r["name"],
            "parent_code": r["parent_code"],
            **(r["attrs"] or {}),
        }
        for r in rows
    ]
    geometry = shapely.from_wkb([r["geom_wkb"] for r in rows])
    frame = gpd.GeoDataFrame(
        records or {"code": [], "name": [], "parent_code": []}, geometry=geometry, crs=CGCS2000
    )
    return Layer(kind, frame)
