"""Drafts as OGC API – Features collections a planner edits from QGIS (Part 4).

Each open draft is a collection of its own, ``<kind>-draft-<id>`` (``grids-draft-7``),
readable like a published one and writable one feature at a time: ``POST`` on its
items, ``PUT``/``PATCH``/``DELETE`` on an item with the ``If-Match`` of the ETag
read. Next to it, ``<kind>-draft-<id>-problems`` holds the draft's validation
problems as features, kept current after every write, so QGIS shows them as a
layer beside the draft. ``OPTIONS`` names the methods a collection takes; QGIS
(3.34 and later) makes a layer editable when the items' ``Allow`` holds POST.

A draft is the planners' own: without a key it is a 401 (QGIS then asks for
one), to any other role it does not exist (404, the words of a missing draft).
The writes themselves are ``services.draft_editing.DraftEditor``'s.

QGIS's provider sends no If-Match at all, so every read of a draft's items
records, per key and feature, the ETag served; a write without If-Match is
checked against it (:data:`LAST_READ`, said in each write's OpenAPI text).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import geopandas as gpd
import shapely
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from starlette.exceptions import HTTPException

from gridsvc.api.auth import bearer, caller
from gridsvc.api.feature_bodies import PATCH_MEDIA, feature_body, read_feature, read_patch
from gridsvc.api.ogc_features import (
    GEOJSON,
    GEOJSON_OK,
    MAX_LIMIT,
    READ_ONLY,
    TITLES,
    GeoJSONResponse,
    collection_doc,
    content_crs,
    feature_collection,
    features_of,
    ogc_base,
    ogc_json,
    parse_crs,
)
from gridsvc.api.params import MAX_ID, Offset
from gridsvc.api.problems import request_lang
from gridsvc.core.crs import CGCS2000
from gridsvc.core.errors import NotFound
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.messages import Msg
from gridsvc.core.validation import Problem
from gridsvc.core.workflow import Role
from gridsvc.services.draft_editing import DraftEditor, Edited
from gridsvc.services.reading import Principal
from gridsvc.store import reference

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])

PART4 = [
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
]
DRAFT_READERS = (Role.PLANNER, Role.ADMIN)
DRAFT = "/collections/{kind}-draft-{draft_id:int}"
PROBLEMS = DRAFT + "-problems"
ON_ITEMS = "GET, HEAD, OPTIONS, POST"
ON_ITEM = "GET, HEAD, OPTIONS, PUT, PATCH, DELETE"
PROBLEM_TITLES = {
    "invalid-geometry": "几何无效",
    "gap": "缝隙",
    "overlap": "重叠",
    "unmatched-edge": "边界未对齐",
    "crosses-parent": "跨越上级边界",
    "outside-parent": "超出上级范围",
    "duplicate-code": "编码重复",
    "missing-code": "缺少编码",
    "unknown-parent": "上级编码不存在",
    "missing-crs": "缺少坐标系",
    "wrong-geometry-type": "几何类型不符",
    "empty-geometry": "几何为空",
    "sliver": "细小缝隙或重叠",
}
FEATURE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": {"type": "object", "description": "a GeoJSON Feature"}}
            for media in sorted(PATCH_MEDIA)
        },
    }
}
Crs = Annotated[str | None, Query(description="the CRS of the answer (CRS84 by default)")]
ContentCrs = Annotated[
    str | None,
    Header(
        alias="Content-Crs",
        description="the CRS of the body's geometry, e.g. "
        "<http://www.opengis.net/def/crs/EPSG/0/4549>; CRS84 lon/lat by default",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="the ETag read; without it, the ETag this key was last served of the "
        "feature stands in (QGIS sends none)",
    ),
]
LAST_READ = (
    "\n\nWithout `If-Match` (QGIS sends none) the write is checked against the ETag this "
    "key was last served of the feature, by `GET` on the items or on the feature, or got "
    "from its own last write: still current, the write goes ahead; changed since by "
    "someone else, 412 (the problem names the key that changed it and when, "
    "`changed_by`, `changed_at`); never read with this key, 428."
)
Body = Annotated[Any, Depends(feature_body)]
Route = TypeVar("Route", bound=Callable[..., Response])


def without_if_match(route: Route) -> Route:
    """A write route whose OpenAPI text says what a write without If-Match is checked against."""
    route.__doc__ = inspect.cleandoc(route.__doc__ or "") + LAST_READ
    return route


def draft_reader(request: Request) -> Principal | None:
    """The caller, if its key may see drafts (a planner's or an admin's); no key: None.
    A key that is sent must be a real one (401 otherwise)."""
    key = bearer(request, request.headers.get("authorization"))
    if key is None:
        return None
    who = caller(request, key)
    return who if who.role in DRAFT_READERS else None


def reads_drafts(request: Request, row: dict[str, Any] | None = None) -> bool:
    """Whether the caller's key may see drafts (and draft ``row``, if given): a planner's
    or an admin's, a town's planner its own town's only."""
    who = draft_reader(request)
    return who is not None and (row is None or sees(who, row))


def sees(who: Principal, row: dict[str, Any]) -> bool:
    """Whether ``who`` sees a draft: a town's planner its own town's drafts only."""
    return who.town is None or row.get("town_code") == who.town


@dataclass(frozen=True)
class Draft:
    """An open draft the caller may edit."""

    id: int
    kind: LayerKind
    label: str
    reader: int | None = None  # the caller's key id: what it reads is recorded as read

    @property
    def collection(self) -> str:
        return f"{self.kind.value}-draft-{self.id}"


def open_draft(request: Request, kind: str, draft_id: int) -> Draft:
    """The draft a path names, for a planner's or admin's key: 401 without a key, and a
    404 alike for a draft that does not exist, is published, or is not the caller's to see."""
    who = caller(request, bearer(request, request.headers.get("authorization")))
    row = None
    if who.role in DRAFT_READERS and draft_id <= MAX_ID:
        with request.app.state.engine.connect() as conn:
            row = reference.version_row(conn, draft_id)
    if row is None or row["kind"] != kind or row["status"] != "draft" or not sees(who, row):
        raise NotFound(Msg("ogc.no_draft", kind=kind, draft_id=draft_id))
    return Draft(draft_id, LayerKind(kind), row["label"], who.key_id)


DraftDep = Annotated[Draft, Depends(open_draft)]


def _editor(request: Request) -> DraftEditor:
    return request.app.state.draft_editor  # type: ignore[no-any-return]


def _layer(request: Request, draft: Draft) -> Layer:
    with request.app.state.engine.connect() as conn:
        return reference.load_layer(conn, draft.kind, draft.id)


def _docs(request: Request, draft: Draft, layer: Layer) -> tuple[dict[str, Any], dict[str, Any]]:
    """The descriptions of a draft's collection and of its problems'."""
    zh, en = TITLES[draft.kind]
    edited = collection_doc(
        request,
        draft.collection,
        f"{zh}（草案 {draft.id}：{draft.label}）",
        f"Draft {draft.id} of the {en.lower()}, editable with a planner's key",
        layer,
    )
    problems = collection_doc(
        request,
        draft.collection + "-problems",
        f"{zh}草案 {draft.id} 的校验问题",
        f"Validation problems of draft {draft.id}, kept current after every edit",
        layer,
    )
    return edited, problems


def draft_collections(request: Request) -> list[dict[str, Any]]:
    """Each open draft and its problems as collections, for a planner's key; else none."""
    who = draft_reader(request)
    if who is None:
        return []
    with request.app.state.engine.connect() as conn:
        drafts = [
            Draft(int(v["id"]), kind, v["label"])
            for kind in LayerKind
            for v in reference.list_versions(conn, kind)
            if v["status"] == "draft" and sees(who, v)
        ]
    return [doc for d in drafts for doc in _docs(request, d, _layer(request, d))]


# ---- the draft's own collection -----------------------------------------------------------


@router.get(DRAFT)
def draft_collection(draft: DraftDep, request: Request) -> Response:
    """A draft's collection description."""
    return ogc_json(_docs(request, draft, _layer(request, draft))[0])


@router.head(DRAFT + "/items", include_in_schema=False)
@router.get(DRAFT + "/items", response_class=GeoJSONResponse, responses=GEOJSON_OK)
def draft_items(
    draft: DraftDep,
    request: Request,
    bbox: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Offset = 0,
    crs: Crs = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
) -> Response:
    """A draft's features as GeoJSON, as stored now, paged with `next` links. The ETag of
    each feature served is recorded as what this key read of it: a later write without
    `If-Match` (QGIS's) is checked against it."""
    layer, etags = _editor(request).features(draft.id)

    def served(rows: gpd.GeoDataFrame) -> None:
        if draft.reader is not None and request.method != "HEAD":  # HEAD shows no feature
            shown = {code: etags[code] for code in rows["code"]}
            _editor(request).served(draft.id, draft.reader, shown)

    page = (offset, limit)
    return feature_collection(
        request, lambda: layer.frame, page, crs, (bbox, bbox_crs), served=served
    )


@router.options(DRAFT + "/items", status_code=204)
def draft_items_methods(draft: DraftDep) -> Response:
    """What a planner may do on a draft's items: read them, and add a feature (POST)."""
    return Response(status_code=204, headers={"Allow": ON_ITEMS})


@router.post(
    DRAFT + "/items",
    status_code=201,
    response_class=GeoJSONResponse,
    openapi_extra=FEATURE_BODY,
    responses={201: GEOJSON_OK[200]},
)
def create_feature(
    draft: DraftDep, body: Body, request: Request, crs: Crs = None, body_crs: ContentCrs = None
) -> Response:
    """Add a feature to a draft; its `code` property is its id. Answers 201 with the feature
    as stored, its `Location` and `ETag`; 409 when the draft has that code already."""
    out_crs = parse_crs(crs, request, "crs")
    new = read_feature(body, _body_crs(request, body_crs), draft.kind)
    edited = _editor(request).create(draft.id, new, draft.reader)
    return _written(request, draft, edited, (crs, out_crs), 201)


@router.head(DRAFT + "/items/{fid}", include_in_schema=False)
@router.get(DRAFT + "/items/{fid}", response_class=GeoJSONResponse, responses=GEOJSON_OK)
def draft_item(draft: DraftDep, fid: str, request: Request, crs: Crs = None) -> Response:
    """One feature of a draft, with the `ETag` a write of it sends back as `If-Match`
    (recorded as what this key read of it, for a write without `If-Match`)."""
    out_crs = parse_crs(crs, request, "crs")
    layer, etag = _editor(request).read(draft.id, fid, draft.reader)
    return _written(request, draft, Edited(fid, etag, [], layer), (crs, out_crs), 200)


@router.options(DRAFT + "/items/{fid}", status_code=204)
def draft_item_methods(draft: DraftDep, fid: str) -> Response:
    """What a planner may do on a draft's feature: read, replace, patch and delete it."""
    headers = {"Allow": ON_ITEM, "Accept-Patch": "application/merge-patch+json"}
    return Response(status_code=204, headers=headers)


@router.put(
    DRAFT + "/items/{fid}",
    response_class=GeoJSONResponse,
    responses=GEOJSON_OK,
    openapi_extra=FEATURE_BODY,
)
@without_if_match
def replace_feature(
    draft: DraftDep,
    fid: str,
    body: Body,
    request: Request,
    if_match: IfMatch = None,
    crs: Crs = None,
    body_crs: ContentCrs = None,
) -> Response:
    """Replace a feature of a draft whole; `If-Match` its ETag (412 when it changed since
    it was read)."""
    out_crs = parse_crs(crs, request, "crs")
    new = read_feature(body, _body_crs(request, body_crs), draft.kind, fid)
    edited = _editor(request).replace(draft.id, fid, new, if_match, draft.reader)
    return _written(request, draft, edited, (crs, out_crs), 200)


@router.patch(
    DRAFT + "/items/{fid}",
    response_class=GeoJSONResponse,
    responses=GEOJSON_OK,
    openapi_extra=FEATURE_BODY,
)
@without_if_match
def patch_feature(
    draft: DraftDep,
    fid: str,
    body: Body,
    request: Request,
    if_match: IfMatch = None,
    crs: Crs = None,
    body_crs: ContentCrs = None,
) -> Response:
    """Change a feature's geometry or some of its properties (a JSON merge patch: a property
    set to null is removed); `If-Match` its ETag."""
    out_crs = parse_crs(crs, request, "crs")
    changes = read_patch(body, _body_crs(request, body_crs), draft.kind, fid)
    edited = _editor(request).update(draft.id, fid, changes, if_match, draft.reader)
    return _written(request, draft, edited, (crs, out_crs), 200)


@router.delete(DRAFT + "/items/{fid}", status_code=204)
@without_if_match
def delete_feature(
    draft: DraftDep, fid: str, request: Request, if_match: IfMatch = None
) -> Response:
    """Delete a feature of a draft; `If-Match` its ETag."""
    _editor(request).delete(draft.id, fid, if_match, draft.reader)
    return Response(status_code=204, headers=_problems_link(request, draft))


def _body_crs(request: Request, header: str | None) -> str:
    """The Content-Crs of a body (``<uri>`` as Part 4 writes it, or the bare URI)."""
    uri = None if header is None else header.strip().removeprefix("<").removesuffix(">")
    return parse_crs(uri, request, "Content-Crs")


def _written(
    request: Request, draft: Draft, edited: Edited, crs: tuple[str | None, str], status: int
) -> Response:
    """A feature of a draft as the write left it, with its ETag and where it lives."""
    assert edited.feature is not None and edited.etag is not None
    [feature] = features_of(edited.feature.frame, crs[1])
    where = (
        f"{ogc_base(request)}/collections/{draft.collection}/items/{quote(edited.code, safe='')}"
    )
    feature["links"] = [{"href": where, "rel": "self", "type": GEOJSON}]
    headers = content_crs(crs[0]) | {"ETag": f'"{edited.etag}"'} | _problems_link(request, draft)
    if status == 201:
        headers["Location"] = where
    return ogc_json(feature, GEOJSON, headers, status)


def _problems_link(request: Request, draft: Draft) -> dict[str, str]:
    """A Link header to the draft's problems, which the write just brought up to date."""
    url = f"{ogc_base(request)}/collections/{draft.collection}-problems/items"
    return {"Link": f'<{url}>; rel="related"; title="problems"'}


# ---- the draft's problems -----------------------------------------------------------------


@router.get(PROBLEMS)
def problems_collection(draft: DraftDep, request: Request) -> Response:
    """The description of a draft's problems collection."""
    return ogc_json(_docs(request, draft, _layer(request, draft))[1])


@router.head(PROBLEMS + "/items", include_in_schema=False)
@router.get(PROBLEMS + "/items", response_class=GeoJSONResponse, responses=GEOJSON_OK)
def problem_items(
    draft: DraftDep,
    request: Request,
    bbox: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Offset = 0,
    crs: Crs = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
) -> Response:
    """A draft's validation problems now: where each is (the overlap, the gap, the point
    where a ring crosses itself), its kind, the features it concerns, and whether it
    blocks publishing."""
    return feature_collection(
        request,
        lambda: _problem_frame(_editor(request).problems(draft.id), request_lang(request)),
        (offset, limit),
        crs,
        (bbox, bbox_crs),
        "id",
    )


@router.head(PROBLEMS + "/items/{fid}", include_in_schema=False)
@router.get(PROBLEMS + "/items/{fid}", response_class=GeoJSONResponse, responses=GEOJSON_OK)
def problem_item(draft: DraftDep, fid: str, request: Request, crs: Crs = None) -> Response:
    """One of a draft's problems by its number (numbers follow the list as it is now)."""
    out_crs = parse_crs(crs, request, "crs")
    frame = _problem_frame(_editor(request).problems(draft.id), request_lang(request))
    hit = frame[frame["id"].astype(str) == fid]
    if hit.empty:
        raise NotFound(Msg("ogc.no_problem", draft_id=draft.id, fid=fid))
    [feature] = features_of(hit, out_crs, "id")
    return ogc_json(feature, GEOJSON, content_crs(crs))


@router.options(PROBLEMS + "/items", status_code=204)
@router.options(PROBLEMS + "/items/{fid}", status_code=204)
def problems_methods(draft: DraftDep) -> Response:
    """The problems are read-only: they follow the draft's features."""
    return Response(status_code=204, headers={"Allow": READ_ONLY})


@router.api_route(PROBLEMS + "/items", methods=["POST"], include_in_schema=False)
@router.api_route(
    PROBLEMS + "/items/{fid}", methods=["PUT", "PATCH", "DELETE"], include_in_schema=False
)
def refuse_problem_write(draft: DraftDep, request: Request) -> Response:
    """Problems change by editing the draft's features, not by writing them. A 405 (with
    Allow) has no domain error to be, so its words are chosen here, in the reader's language."""
    said = Msg("ogc.problems_read_only", draft_id=draft.id, collection=draft.collection)
    raise HTTPException(405, said.text(request_lang(request)), headers={"Allow": READ_ONLY})


def _problem_frame(problems: list[Problem], lang: str) -> gpd.GeoDataFrame:
    """Problems as features: numbered, their message as validation words it, drawn where
    they are (their part of the draft, else the point they name, else no geometry)."""
    records = [
        {
            "id": i,
            "kind": str(p.kind),
            "title": PROBLEM_TITLES.get(str(p.kind), str(p.kind)),
            "codes": ", ".join(p.codes),
            "message": p.message_in(lang),
            "area_m2": None if p.area_m2 is None else round(p.area_m2, 1),
            "blocking": p.blocking,
        }
        for i, p in enumerate(problems, start=1)
    ]
    shapes = [
        p.geometry
        if p.geometry is not None and not p.geometry.is_empty
        else (shapely.Point(p.location) if p.location else None)
        for p in problems
    ]
    columns = ["id", "kind", "title", "codes", "message", "area_m2", "blocking"]
    return gpd.GeoDataFrame(records or {c: [] for c in columns}, geometry=shapes, crs=CGCS2000)
