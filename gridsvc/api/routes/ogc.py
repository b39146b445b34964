"""OGC API – Features (Part 1 core + GeoJSON, Part 2 CRS) under /ogc, for QGIS and GDAL.

Collections are the published layers (jurisdiction, units, grids, committees,
cells, streets). Items are GeoJSON features whose id is the feature code;
``bbox``, ``limit``/``offset`` with ``next`` links, ``crs`` and ``bbox-crs``
(CRS84, EPSG:4490, the Gauss-Krüger zone) and a ``version`` parameter for a
historical layer version are supported. Coordinates follow the axis order of
the requested CRS, as Part 2 requires (EPSG:4490 is latitude first).
Published collections are read-only (OPTIONS says so, writes are 405); the
drafts, which planners edit, are ``routes/ogc_drafts.py``'s.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import geopandas as gpd
from fastapi import APIRouter, Query, Request, Response
from starlette.exceptions import HTTPException

from gridsvc.api.auth import bearer, caller
from gridsvc.api.ogc_features import (
    CRS84,
    EPSG_URI,
    GEOJSON,
    GEOJSON_OK,
    MAX_LIMIT,
    READ_ONLY,
    TITLES,
    GeoJSONResponse,
    bbox_polygon,
    collection_doc,
    content_crs,
    crs_uris,
    feature_collection,
    features_of,
    ogc_base,
    ogc_json,
    page_links,
    parse_crs,
)
from gridsvc.api.params import MAX_ID, Offset
from gridsvc.api.problems import request_lang
from gridsvc.api.routes.ogc_drafts import PART4, draft_collections, reads_drafts
from gridsvc.core.crs import CGCS2000
from gridsvc.core.errors import Forbidden, InvalidInput, NotFound
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.messages import Msg
from gridsvc.core.workflow import Role
from gridsvc.services.reading import town_for
from gridsvc.store import cases as case_store
from gridsvc.store import reference

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    *PART4,  # on the drafts' collections (routes/ogc_drafts.py); the others say 405
]
Version = Annotated[
    int | None,
    Query(ge=1, le=MAX_ID, description="a layer version id; default the active one"),
]


@router.get("")
def landing(request: Request) -> Response:
    """The landing page: links to the API definition, conformance and the collections."""
    base = ogc_base(request)
    return ogc_json(
        {
            "title": "gridsvc 网格化管理 — OGC API Features",
            "description": "Grid-management boundaries of the town, for QGIS and GDAL",
            "links": [
                {"href": base, "rel": "self", "type": "application/json", "title": "this document"},
                {
                    "href": str(request.base_url) + "openapi.json",
                    "rel": "service-desc",
                    "type": "application/vnd.oai.openapi+json;version=3.0",
                    "title": "the API definition",
                },
                {"href": base + "/conformance", "rel": "conformance", "type": "application/json"},
                {"href": base + "/collections", "rel": "data", "type": "application/json"},
            ],
        }
    )


@router.get("/conformance")
def conformance() -> Response:
    """The conformance classes this service implements."""
    return ogc_json({"conformsTo": CONFORMANCE})


def _layers(request: Request) -> dict[LayerKind, Layer]:
    return request.app.state.town.layers  # type: ignore[no-any-return]


def _collection(request: Request, kind: LayerKind) -> dict[str, Any]:
    zh, en = TITLES[kind]
    return collection_doc(request, kind.value, zh, en, _layers(request)[kind])


CASES = "cases"
CASE_READERS = (Role.DISPATCHER, Role.LEADER, Role.PLANNER, Role.ADMIN)


def _cases_collection(request: Request) -> dict[str, Any]:
    base = ogc_base(request)
    minx, miny, maxx, maxy = (
        float(v) for v in request.app.state.town.layers[LayerKind.GRIDS].frame.total_bounds
    )
    return {
        "id": CASES,
        "title": "案件",
        "description": "Cases (read-only; needs a dispatcher, leader or planner key)",
        "itemType": "feature",
        "crs": crs_uris(request),
        "storageCrs": EPSG_URI.format(4490),
        "extent": {
            "spatial": {"bbox": [[minx, miny, maxx, maxy]], "crs": CRS84},
            "temporal": {"interval": [[None, None]]},
        },
        "links": [
            {"href": f"{base}/collections/{CASES}", "rel": "self", "type": "application/json"},
            {"href": f"{base}/collections/{CASES}/items", "rel": "items", "type": GEOJSON},
        ],
    }


@router.get("/collections")
def collections(request: Request) -> Response:
    """Every published layer as a collection, and the cases; with a planner's key, each
    open draft too (`grids-draft-7`, and its problems as `grids-draft-7-problems`)."""
    items = [_collection(request, kind) for kind in _layers(request)]
    items.append(_cases_collection(request))
    items += draft_collections(request)
    base = ogc_base(request)
    return ogc_json(
        {
            "collections": items,
            "links": [{"href": base + "/collections", "rel": "self", "type": "application/json"}],
        }
    )


def _kind(collection_id: str, request: Request) -> LayerKind:
    try:
        kind = LayerKind(collection_id)
    except ValueError:
        kind = None
    if kind is None or kind not in _layers(request):
        names = [k.value for k in _layers(request)]
        raise NotFound(Msg("ogc.no_collection", collection_id=collection_id, names=names))
    return kind


@router.head("/collections/cases/items", include_in_schema=False)
@router.get("/collections/cases/items", response_class=GeoJSONResponse, responses=GEOJSON_OK)
def case_items(
    request: Request,
    bbox: str | None = None,
    datetime_: Annotated[
        str | None, Query(alias="datetime", description="an instant or start/end; .. is open")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Offset = 0,
    crs: str | None = None,
    town: Annotated[str | None, Query(description="a town's code (a town key: its own)")] = None,
) -> Response:
    """Cases as point features (reported time filtered by `datetime`), for roles that may see
    them; a key scoped to one town reads that town's cases only."""
    who = caller(request, bearer(request, request.headers.get("authorization")))
    if who.role not in CASE_READERS:
        raise Forbidden(Msg("ogc.cases_role", role=who.role.value))
    out_crs = parse_crs(crs, request, "crs")
    area = bbox_polygon(bbox, "OGC:CRS84")
    start, end = _interval(datetime_)
    with request.app.state.engine.connect() as conn:
        rows, matched = case_store.cases_page(
            conn, area.bounds if area else None, start, end, limit, offset, town_for(who, town)
        )
    frame = gpd.GeoDataFrame(
        [
            {
                k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in r.items()
                if k not in ("lon", "lat", "id")
            }
            | {"code": r["number"]}
            for r in rows
        ],
        geometry=gpd.points_from_xy([r["lon"] for r in rows], [r["lat"] for r in rows]),
        crs=CGCS2000,
    )
    body = {
        "type": "FeatureCollection",
        "features": features_of(frame, out_crs) if rows else [],
        "numberMatched": matched,
        "numberReturned": len(rows),
        "links": page_links(request, offset, limit, matched),
    }
    return ogc_json(body, GEOJSON, content_crs(crs))


def _interval(value: str | None) -> tuple[datetime | None, datetime | None]:
    """An RFC 3339 instant, or start/end with '..' for an open end."""
    if not value:
        return None, None
    parts = value.split("/")
    if len(parts) > 2:
        raise InvalidInput(Msg("ogc.datetime_parts", value=value))
    try:
        moments = [
            None if p in ("", "..") else datetime.fromisoformat(p.replace("Z", "+00:00"))
            for p in parts
        ]
    except ValueError as exc:
        raise InvalidInput(Msg("ogc.datetime_rfc3339", value=value)) from exc
    if any(m is not None and m.tzinfo is None for m in moments):
        raise InvalidInput(Msg("ogc.datetime_zone", value=value))
    return (moments[0], moments[0]) if len(moments) == 1 else (moments[0], moments[1])


@router.get("/collections/{collection_id}")
def collection(collection_id: str, request: Request) -> Response:
    """One collection's description."""
    if collection_id == CASES:
        return ogc_json(_cases_collection(request))
    kind = _kind(collection_id, request)
    return ogc_json(_collection(request, kind))


def _layer_at(request: Request, kind: LayerKind, version: int | None) -> Layer:
    """The active layer, or a stored version of it (a redraw's history stays readable)."""
    if version is None:
        return _layers(request)[kind]
    cache: dict[tuple[LayerKind, int], Layer] = request.app.state.__dict__.setdefault(
        "ogc_versions", {}
    )
    if (kind, version) in cache:  # only published and retired versions: they never change
        return cache[(kind, version)]
    with request.app.state.engine.connect() as conn:
        row = reference.version_row(conn, version)
        if row is None or row["kind"] != kind.value or not _may_read(request, row):
            # a draft is the planners' own: to anyone else it does not exist (404, not 403)
            raise NotFound(Msg("ogc.no_version", kind=kind.value, version=version))
        layer = reference.load_layer(conn, kind, version)
    if row["status"] != "draft":
        cache[(kind, version)] = layer
    return layer


def _may_read(request: Request, version: dict[str, Any]) -> bool:
    """Published and retired versions are public; a draft needs a planner's or admin's key
    (a town's planner reads its own town's drafts only)."""
    return version["status"] != "draft" or reads_drafts(request, version)


@router.head("/collections/{collection_id}/items", include_in_schema=False)
@router.get(
    "/collections/{collection_id}/items", response_class=GeoJSONResponse, responses=GEOJSON_OK
)
def items(
    collection_id: str,
    request: Request,
    bbox: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Offset = 0,
    crs: str | None = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
    version: Version = None,
) -> Response:
    """Features of a collection as GeoJSON, paged with `next` links."""
    kind = _kind(collection_id, request)
    return feature_collection(
        request,
        lambda: _layer_at(request, kind, version).frame,
        (offset, limit),
        crs,
        (bbox, bbox_crs),
    )


@router.head("/collections/{collection_id}/items/{fid}", include_in_schema=False)
@router.get(
    "/collections/{collection_id}/items/{fid}", response_class=GeoJSONResponse, responses=GEOJSON_OK
)
def item(
    collection_id: str,
    fid: str,
    request: Request,
    crs: str | None = None,
    version: Version = None,
) -> Response:
    """One feature by its code."""
    kind = _kind(collection_id, request)
    frame = _layer_at(request, kind, version).frame
    hit = frame[frame["code"].astype(str) == fid]
    if hit.empty:
        raise NotFound(Msg("ogc.no_feature", kind=kind.value, fid=fid))
    out_crs = parse_crs(crs, request, "crs")
    [feature] = features_of(hit, out_crs)
    feature["links"] = [
        {"href": str(request.url), "rel": "self", "type": GEOJSON},
        {
            "href": f"{ogc_base(request)}/collections/{kind.value}",
            "rel": "collection",
            "type": "application/json",
        },
    ]
    return ogc_json(feature, GEOJSON, content_crs(crs))


@router.options("/collections/{collection_id}/items", status_code=204)
@router.options("/collections/{collection_id}/items/{fid}", status_code=204)
def read_only_methods(collection_id: str, request: Request) -> Response:
    """The methods a published collection takes (Allow): it is read-only, to every key;
    a draft's collection takes writes (see its own OPTIONS)."""
    _readable(collection_id, request)
    return Response(status_code=204, headers={"Allow": READ_ONLY})


@router.api_route("/collections/{collection_id}/items", methods=["POST"], include_in_schema=False)
@router.api_route(
    "/collections/{collection_id}/items/{fid}",
    methods=["PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
def refuse_write(collection_id: str, request: Request) -> Response:
    """A published version never changes: 405, with the methods it does take."""
    _readable(collection_id, request)
    if collection_id == CASES:
        said = Msg("ogc.cases_read_only", collection_id=collection_id)
    else:
        said = Msg("ogc.layer_read_only", collection_id=collection_id)
    # a 405 (with Allow) has no domain error to be: its words in the reader's language here
    raise HTTPException(405, said.text(request_lang(request)), headers={"Allow": READ_ONLY})


def _readable(collection_id: str, request: Request) -> None:
    """A published layer's or the cases' collection (404 for any other name)."""
    if collection_id != CASES:
        _kind(collection_id, request)
