"""Planners redraw boundaries: upload a draft, validate it, preview its impact, publish it.

A draft is stored as a version that matching never sees. Its impact is the
re-match of every open case and every case of the last 90 days under the
draft (the same bulk matcher as everything else), so the preview is exactly
what publishing will do. Publishing is one transaction: the draft becomes the
active version, the old one is retired, and open cases whose grid or team
changes are reassigned, each with an event in its history.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
from gridsvc.core.messages import Msg
from gridsvc.core.repair import apply_repairs
from gridsvc.core.splicing import features_equal, part_of
from gridsvc.core.validation import SLIVER_M2, Problem, code_problems, validate_layer
from gridsvc.layerio import read_layer
from gridsvc.services import town_drafts
from gridsvc.services.impact import (
    IMPACT_WINDOW,
    Zoned,
    feature_changes,
    grid_workload,
    moved_cases,
    rematch_window,
)
from gridsvc.services.layers import StoredLayers
from gridsvc.store import reference
from gridsvc.store.reassign import reassign_cases

PUBLISH_TRIES = 5  # splices onto another town's newer layer before a publish gives up
MAX_UNZIPPED = 500 * 1024 * 1024  # a zip that would unpack to more is refused (zip bomb)
MAX_RATIO = 200  # nor one that compresses suspiciously well
UPLOAD_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".fgb")


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
        raise InvalidInput(Msg("upload.suffix", filename=upload.filename))
    if len(upload.data) > max_bytes:
        raise PayloadTooLarge(Msg("upload.too_large", most=max_bytes))
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
        raise InvalidInput(Msg("upload.bad_zip")) from exc
    unpacked = sum(m.file_size for m in members)
    packed = max(sum(m.compress_size for m in members), 1)
    if unpacked > MAX_UNZIPPED or unpacked / packed > MAX_RATIO:
        raise InvalidInput(Msg("upload.zip_bomb", unpacked=unpacked, ratio=unpacked / packed))
    for member in members:
        name = member.filename
        if name.startswith(("/", "\\\\")) or ".." in Path(name).parts:
            raise InvalidInput(Msg("upload.zip_path", name=name))


VALIDATIONS_KEPT = 8  # layers whose problems are remembered (``Planning._validated``)


def content_digest(layer: Layer | None) -> bytes:
    """A digest of everything validation reads of a layer: kind, CRS, every column's
    values in order (``repr``: None, NaN and "" stay apart) and every geometry's WKB."""
    if layer is None:
        return b""
    frame = layer.frame
    digest = hashlib.blake2b(digest_size=24)
    attributes = frame.drop(columns=frame.geometry.name)
    digest.update(repr((layer.kind.value, str(frame.crs), list(attributes.columns))).encode())
    digest.update(repr(list(attributes.itertuples(index=False, name=None))).encode())
    for wkb in shapely.to_wkb(frame.geometry.to_numpy()):
        digest.update(b"\0" if wkb is None else len(wkb).to_bytes(8, "little") + wkb)
    return digest.digest()


class Planning:
    """Drafts, validation, impact and publication over the database."""

    def __init__(self, engine: Engine, sliver_m2: float = SLIVER_M2) -> None:
        self.engine = engine
        self.sliver_m2 = sliver_m2  # gaps and overlaps under this are slivers (close_slivers)
        self._stored = StoredLayers()
        self._checked: OrderedDict[tuple[bytes, bytes, float], tuple[Problem, ...]] = OrderedDict()

    def add_draft(
        self,
        layer: Layer,
        label: str,
        repairs: tuple[str, ...] = (),
        town: str | None = None,
        lang: str = "en",
    ) -> dict[str, Any]:
        """Store a draft (repaired only as asked) and answer with its validation report
        (its messages in ``lang``).

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
                Msg(
                    "draft.code_problems",
                    count=len(unstorable),
                    kind=layer.kind.value,
                    first=unstorable[0].text or unstorable[0].message,
                ),
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
            "validation": self.validation(layer.kind, draft_id, town, lang),
            "repairs": [r.to_dict() for r in applied],
        }

    def _row(
        self, conn: Connection, kind: LayerKind, draft_id: int, town: str | None
    ) -> dict[str, Any]:
        """The draft's version row; a town's planner sees its own town's drafts only."""
        row = town_drafts.check_visible(reference.version_row(conn, draft_id), kind, draft_id, town)
        if row["status"] != "draft":
            raise Conflict(Msg("draft.not_draft", draft_id=draft_id, status=row["status"]))
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

    def validation(
        self, kind: LayerKind, draft_id: int, town: str | None = None, lang: str = "en"
    ) -> dict[str, Any]:
        """Every problem of the draft, checked against the active parent level, in ``lang``."""
        problems = self._problems(kind, draft_id, town)
        return {
            "blocking": sum(p.blocking for p in problems),
            "problems": [p.to_dict(lang) for p in problems],
        }

    def _problems(self, kind: LayerKind, draft_id: int, town: str | None) -> list[Problem]:
        with self.engine.connect() as conn:
            draft = self._draft(conn, kind, draft_id, town)
            active = self._active(conn)
        return self._validated(draft, self._parent_of(active, kind))

    def _validated(self, layer: Layer, parent: Layer | None) -> list[Problem]:
        """``validate_layer``, remembered for the last few layers by their content.

        A planner's page asks for the draft's problems before publishing it, and the
        publish must check them again (a city's 20,000 grids take seconds): a draft
        and parent exactly as validated before (every attribute and vertex, see
        ``content_digest``) have the same problems; any edit is validated afresh.
        """
        key = (content_digest(layer), content_digest(parent), self.sliver_m2)
        if key in self._checked:
            self._checked.move_to_end(key)
            return list(self._checked[key])
        problems = validate_layer(layer, parent, self.sliver_m2)
        self._checked[key] = tuple(problems)
        while len(self._checked) > VALIDATIONS_KEPT:
            self._checked.popitem(last=False)
        return problems

    def impact(self, kind: LayerKind, draft_id: int, town: str | None = None) -> dict[str, Any]:
        """What publishing the draft changes: features, and every case that would move.
        A town's draft changes that town's cases alone: only they are checked and listed,
        and the workload rows are that town's grids."""
        with self.engine.connect() as conn:
            drafted_by = self._row(conn, kind, draft_id, town)["town_code"]
            draft = self._draft(conn, kind, draft_id, town)
            active = self._active(conn)
            since = datetime.now(UTC) - IMPACT_WINDOW
            found = rematch_window(conn, kind, active, draft, since, drafted_by)
        zoned = Zoned.of(active.get(kind), draft)
        workload = (
            grid_workload(
                active.get(kind), draft, found.tally, active.get(LayerKind.STREETS), zoned
            )
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
            "features": feature_changes(active.get(kind), draft, zoned),
            "moved_cases": moved_cases(found.cases, found.after),
            "cases_checked": found.checked,
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
            raise StaleVersion(Msg("list.draft_etag", draft_etag=draft_etag, draft_id=draft_id))
        for _ in range(PUBLISH_TRIES):
            with self.engine.connect() as conn:
                row = self._row(conn, kind, draft_id, town)
                seen = reference.active_versions(conn).get(kind)
            if row["town_code"] is not None:
                self._respliced(kind, row)
            moves = self._checked_moves(kind, draft_id, town)
            now = datetime.now(UTC)
            with self.engine.begin() as conn:
                reference.publish_turn(conn, kind)
                current = reference.active_versions(conn).get(kind)
                if row["town_code"] is None:
                    if current != active_etag:
                        raise StaleVersion(
                            Msg(
                                "publish.stale",
                                kind=kind.value,
                                current=current,
                                active_etag=active_etag,
                            )
                        )
                elif current != seen:
                    continue  # another town published meanwhile: splice onto it again
                else:
                    self._check_seen(conn, kind, row["town_code"], active_etag, current)
                if (reference.version_row(conn, draft_id) or {}).get("status") != "draft":
                    raise Conflict(Msg("draft.published_meanwhile", draft_id=draft_id))
                reference.promote(conn, kind, draft_id, now)
                reassigned = [m for m in moves if m["open"]]
                reassign_cases(conn, reassigned, kind.value, draft_id, now)
            return {
                "published": draft_id,
                "retired": current,
                "reassigned": len(reassigned),
                "town": row["town_code"],
            }
        raise Conflict(
            Msg("publish.overtaken", kind=kind.value, tries=PUBLISH_TRIES, draft_id=draft_id)
        )

    def _checked_moves(
        self, kind: LayerKind, draft_id: int, town: str | None
    ) -> list[dict[str, Any]]:
        """The draft validated (a blocking problem refuses the publish) and the cases it
        moves, as the impact lists them; the draft and the cases read once for both."""
        with self.engine.connect() as conn:
            drafted_by = self._row(conn, kind, draft_id, town)["town_code"]
            draft = self._draft(conn, kind, draft_id, town)
            active = self._active(conn)
            problems = self._validated(draft, self._parent_of(active, kind))
            if blocking := sum(p.blocking for p in problems):
                # the Problems themselves: the API says them in the reader's language
                raise InvalidLayer(
                    Msg("draft.blocking", draft_id=draft_id, blocking=blocking), problems=problems
                )
            since = datetime.now(UTC) - IMPACT_WINDOW
            found = rematch_window(conn, kind, active, draft, since, drafted_by)
        return moved_cases(found.cases, found.after)

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
                Msg("publish.stale", kind=kind.value, current=current, active_etag=seen)
            )
        active = self._stored.active(conn)[1]
        towns = town_drafts.towns_of(active, town)
        same = features_equal(
            part_of(self._stored.get(conn, kind, seen), town, towns),
            part_of(active[kind], town, towns),
        )
        if not same:
            raise StaleVersion(
                Msg("publish.town_changed", town=town, kind=kind.value, seen=seen, current=current),
                town=town,
            )

    def rollback(
        self, kind: LayerKind, active_etag: int | None, town: str | None = None
    ) -> dict[str, Any]:
        """Make the previous version active again, as a new version (history keeps both).
        The district's alone: a town's planner gets a 403."""
        if town is not None:
            raise Forbidden(Msg("rollback.town", kind=kind.value, town=town))
        with self.engine.connect() as conn:
            current = reference.active_versions(conn).get(kind)
            previous = reference.previous_version(conn, kind)
            if previous is None:
                raise Conflict(Msg("rollback.no_earlier", kind=kind.value))
            layer = reference.load_layer(conn, kind, previous)
        if current != active_etag:
            raise StaleVersion(
                Msg("rollback.stale", kind=kind.value, current=current, active_etag=active_etag)
            )
        with self.engine.begin() as conn:
            draft_id = reference.add_draft(
                conn, layer, f"rollback to version {previous}", datetime.now(UTC)
            )
        return {**self.publish(kind, draft_id, draft_id, active_etag), "restored": previous}
