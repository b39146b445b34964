"""Town drafts: a town's planner redraws its own town's features, no other town's.

A town-scoped planner's upload of a level below the towns (units, grids,
committees, cells, streets) holds only that town's features. The stored draft
is the active layer with them spliced in (``core.splicing``) and remembers the
active version it was spliced onto (``based_on``). When another town publishes
first, the draft is spliced again onto the newer layer, so neither town loses
work; when what was published changed *this* town's features, the draft is
stale: a 409 that names the town and the version.

The towns are the active towns layer's; a single town's deployment has none,
and its one town (a key scoped to it) is its jurisdiction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from gridsvc.core.errors import Conflict, Forbidden, InvalidLayer, NotFound
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.messages import Msg
from gridsvc.core.splicing import features_equal, in_town, part_of, splice, strays
from gridsvc.services.layers import StoredLayers
from gridsvc.store import reference

#: the levels a town's planner may not publish: they are the district's
DISTRICT_LEVELS = (LayerKind.JURISDICTION, LayerKind.TOWNS)


def check_kind(kind: LayerKind, town: str | None) -> None:
    """A town's planner drafts only levels below the towns (403 otherwise)."""
    if town is not None and kind in DISTRICT_LEVELS:
        raise Forbidden(Msg("town.district_level", kind=kind.value, town=town))


def towns_of(active: dict[LayerKind, Layer], town: str) -> Layer:
    """The towns a town draft is cut by: the district's towns, else the one town (the
    jurisdiction); 409 when ``town`` is not among them (the district redrew it away)."""
    towns = active.get(LayerKind.TOWNS, active.get(LayerKind.JURISDICTION))
    if towns is None or town not in set(towns.frame["code"].astype(str)):
        raise Conflict(Msg("town.not_active", town=town))
    return towns


def spliced_upload(
    part: Layer,
    town: str,
    active: dict[LayerKind, Layer],
    versions: dict[LayerKind, int],
    sliver_m2: float,
) -> tuple[Layer, int | None]:
    """The draft a town's upload becomes (the active layer with the town's features
    replaced) and the active version it was spliced onto; 422 naming every feature of
    the upload outside the town or belonging to another town, before anything is stored."""
    towns = towns_of(active, town)
    current = active.get(part.kind)
    check_part(part, town, active, sliver_m2, Msg("town.in_upload"))
    if current is None:
        return part, None
    return splice(current, part, town, towns), versions[part.kind]


def check_part(
    part: Layer, town: str, active: dict[LayerKind, Layer], sliver_m2: float, what: Msg
) -> None:
    """422 naming every feature of ``part`` outside ``town`` or belonging to another town;
    ``what`` names ``part`` (``town.in_upload``, ``town.in_draft``)."""
    refused = strays(part, town, towns_of(active, town), active.get(part.kind), sliver_m2)
    if refused:
        codes = sorted({s.code for s in refused})
        raise InvalidLayer(
            Msg(
                "town.strays",
                count=len(codes),
                what=what,
                town=town,
                codes=codes,
                first=refused[0].text,
            ),
            problems=refused,
            town=town,
            codes=codes,
        )


def town_part(
    conn: Connection,
    stored: StoredLayers,
    row: dict[str, Any],
    draft: Layer,
    towns: Layer,
) -> Layer:
    """The town's own features of a town draft: the draft without the other towns'
    features it was spliced onto (those of its base lying outside the town)."""
    town, based_on = row["town_code"], row["based_on"]
    if based_on is None:
        return draft
    base = stored.get(conn, draft.kind, int(based_on))
    theirs = set(base.frame["code"].astype(str)[~in_town(base, town, towns)])
    mine = ~draft.frame["code"].astype(str).isin(theirs).to_numpy()
    return Layer(draft.kind, draft.frame[mine].reset_index(drop=True))


def on_active(
    conn: Connection,
    stored: StoredLayers,
    row: dict[str, Any],
    draft: Layer,
    active: dict[LayerKind, Layer],
    versions: dict[LayerKind, int],
) -> tuple[Layer, bool]:
    """A town draft as publishing it now would make the layer, and whether that differs
    from what is stored (another town published since it was spliced).

    409 when the versions published since changed this town's own features: the
    draft would undo them (upload the town's redraw again on the new layer).
    """
    kind = draft.kind
    current = versions.get(kind)
    if row["based_on"] is None or current is None or int(row["based_on"]) == current:
        return draft, False
    town = row["town_code"]
    towns = towns_of(active, town)
    base = stored.get(conn, kind, int(row["based_on"]))
    check_untouched(town, towns, base, int(row["based_on"]), active[kind], current, conn)
    mine = town_part(conn, stored, row, draft, towns)
    return splice(active[kind], mine, town, towns), True


def check_untouched(
    town: str,
    towns: Layer,
    seen: Layer,
    seen_id: int,
    now: Layer,
    now_id: int,
    conn: Connection,
) -> None:
    """409 when version ``now_id`` holds other features of ``town`` than ``seen_id`` did."""
    if features_equal(part_of(seen, town, towns), part_of(now, town, towns)):
        return
    by = _publisher(conn, now_id)
    raise Conflict(
        Msg(
            "town.redrawn",
            town=town,
            kind=now.kind.value,
            seen_id=seen_id,
            now_id=now_id,
            by=by,
        ),
        town=town,
        active=now_id,
    )


def _publisher(conn: Connection, version_id: int) -> Msg:
    """Who published ``version_id`` (a town's redraw or the district) and its label."""
    row = reference.version_row(conn, version_id) or {}
    label = row.get("label", "")
    if row.get("town_code"):
        return Msg("town.by_town", town=row["town_code"], label=label)
    return Msg("town.by_district", label=label)


def check_visible(
    row: dict[str, Any] | None, kind: LayerKind, draft_id: int, town: str | None
) -> dict[str, Any]:
    """The draft's version row, if ``town``'s planner may see it: a town's planner sees its
    own town's drafts only, and another's is a 404 with the words of a missing one."""
    if row is None or row["kind"] != kind.value or (town is not None and row["town_code"] != town):
        raise NotFound(Msg("town.no_draft", kind=kind.value, draft_id=draft_id))
    return row
