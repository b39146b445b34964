"""OGC API – Features (Part 1 core + GeoJSON, Part 2 CRS) under /ogc, for QGIS and GDAL.

Collections are the published layers (jurisdiction, units, grids, committees,
cells, streets). Items are GeoJSON features whose id is the feature code;
``bbox``, ``limit``/``offset`` with ``next`` links, ``crs`` and ``bbox-crs``
(CRS84, EPSG:4490, the Gauss-Krüger zone) and a ``version`` parameter for a
historical layer version are supported. Coordinates follow the axis order of
the requested CRS, as Part 2 requires (EPSG:4490 is latitude first).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import geopandas as gpd
import pyproj
import shapely
from fastapi import APIRouter, Query, Request, Response

from gridsvc.api.auth import bearer, caller
from gridsvc.api.params import MAX_ID, Offset, parse_bbox
from gridsvc.api.problems import json_bytes
from gridsvc.core.crs import CGCS2000
from gridsvc.core.errors import Forbidden, InvalidInput, NotFound
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.workflow import Role
from gridsvc.store import cases as case_store
from gridsvc.store import reference

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
GEOJSON = "application/geo+json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
TITLES = {
    LayerKind.JURISDICTION: ("辖区", "Jurisdiction"),
    LayerKind.UNITS: ("基本管理单元", "Basic management units"),
    LayerKind.GRIDS: ("责任网格", "Responsibility grids"),
    LayerKind.COMMITTEES: ("居委", "Residents' committees"),
    LayerKind.CELLS: ("单元网格", "Unit cells"),
    LayerKind.STREETS: ("街道路段", "Street segments"),
}
MAX_LIMIT = 10_000
DRAFT_READERS = (Role.PLANNER, Role.ADMIN)
Version = Annotated[
    int | None,
    Query(ge=1, le=MAX_ID, description="a layer version id; default the active one"),
]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


class GeoJSONResponse(Response):
    """What the items routes answer (RFC 7946), so their OpenAPI says so."""

    media_type = GEOJSON


GEOJSON_OK: dict[int | str, dict[str, Any]] = {
    200: {"content": {GEOJSON: {"schema": {"type": "object", "description": "RFC 7946 GeoJSON"}}}}
}


def _json(
    content: Any, media_type: str = "application/json", headers: dict[str, str] | None = None
) -> Response:
    return Response(json_bytes(content), media_type=media_type, headers=headers)


def _crs_uris(request: Request) -> list[str]:
    epsg = request.app.state.matcher.work_epsg
    return [CRS84, EPSG_URI.format(4490), EPSG_URI.format(epsg)]


def _parse_crs(uri: str | None, request: Request, what: str) -> str:
    """A supported CRS URI → a pyproj string; CRS84 when none is given."""
    if uri is None or uri == CRS84:
        return "OGC:CRS84"
    if uri in _crs_uris(request):
        return "EPSG:" + uri.rsplit("/", 1)[1]
    raise InvalidInput(f"{what} {uri!r} is not offered; use one of {', '.join(_crs_uris(request))}")


@router.get("")
def landing(request: Request) -> Response:
    """The landing page: links to the API definition, conformance and the collections."""
    base = _base(request)
    return _json(
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
    return _json({"conformsTo": CONFORMANCE})


def _layers(request: Request) -> dict[LayerKind, Layer]:
    return request.app.state.town.layers  # type: ignore[no-any-return]


def _collection(request: Request, kind: LayerKind, layer: Layer) -> dict[str, Any]:
    base = _base(request)
    minx, miny, maxx, maxy = (float(v) for v in layer.frame.total_bounds)
    zh, en = TITLES[kind]
    return {
        "id": kind.value,
        "title": zh,
        "description": en,
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [[minx, miny, maxx, maxy]], "crs": CRS84}},
        "crs": _crs_uris(request),
        "storageCrs": EPSG_URI.format(4490),
        "links": [
            {"href": f"{base}/collections/{kind.value}", "rel": "self", "type": "application/json"},
            {"href": f"{base}/collections/{kind.value}/items", "rel": "items", "type": GEOJSON},
        ],
    }


CASES = "cases"
CASE_READERS = (Role.DISPATCHER, Role.LEADER, Role.PLANNER, Role.ADMIN)


def _cases_collection(request: Request) -> dict[str, Any]:
    base = _base(request)
    minx, miny, maxx, maxy = (
        float(v) for v in request.app.state.town.layers[LayerKind.GRIDS].frame.total_bounds
    )
    return {
        "id": CASES,
        "title": "案件",
        "description": "Cases (read-only; needs a dispatcher, leader or planner key)",
        "itemType": "feature",
        "crs": _crs_uris(request),
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
    """Every published layer as a collection, and the cases."""
    items = [_collection(request, kind, layer) for kind, layer in _layers(request).items()]
    items.append(_cases_collection(request))
    base = _base(request)
    return _json(
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
        names = ", ".join(k.value for k in _layers(request))
        raise NotFound(f"no collection {collection_id!r}; collections: {names}")
    return kind


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
) -> Response:
    """Cases as point features (reported time filtered by `datetime`), for roles that may see them."""
    who = caller(request, bearer(request, request.headers.get("authorization")))
    if who.role not in CASE_READERS:
        raise Forbidden(f"role {who.role.value} may not read cases")
    out_crs = _parse_crs(crs, request, "crs")
    area = _bbox(bbox, "OGC:CRS84")
    start, end = _interval(datetime_)
    with request.app.state.engine.connect() as conn:
        rows, matched = case_store.cases_page(
            conn, area.bounds if area else None, start, end, limit, offset
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
        "features": _features(frame, out_crs) if rows else [],
        "numberMatched": matched,
        "numberReturned": len(rows),
        "links": _page_links(request, offset, limit, matched),
    }
    return _json(body, GEOJSON, {"Content-Crs": f"<{crs or CRS84}>"})


def _interval(value: str | None) -> tuple[datetime | None, datetime | None]:
    """An RFC 3339 instant, or start/end with '..' for an open end."""
    if not value:
        return None, None
    parts = value.split("/")
    if len(parts) > 2:
        raise InvalidInput(f"datetime {value!r} must be an instant or start/end")
    try:
        moments = [
            None if p in ("", "..") else datetime.fromisoformat(p.replace("Z", "+00:00"))
            for p in parts
        ]
    except ValueError as exc:
        raise InvalidInput(
            f"datetime {value!r} is not RFC 3339 (e.g. 2026-05-01T00:00:00Z/..)"
        ) from exc
    if any(m is not None and m.tzinfo is None for m in moments):
        raise InvalidInput(f"datetime {value!r} needs a time zone (Z or +08:00)")
    return (moments[0], moments[0]) if len(moments) == 1 else (moments[0], moments[1])


@router.get("/collections/{collection_id}")
def collection(collection_id: str, request: Request) -> Response:
    """One collection's description."""
    if collection_id == CASES:
        return _json(_cases_collection(request))
    kind = _kind(collection_id, request)
    return _json(_collection(request, kind, _layers(request)[kind]))


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
            raise NotFound(f"collection {kind.value} has no version {version}")
        layer = reference.load_layer(conn, kind, version)
    if row["status"] != "draft":
        cache[(kind, version)] = layer
    return layer


def _may_read(request: Request, version: dict[str, Any]) -> bool:
    """Published and retired versions are public; a draft needs a planner's or admin's key."""
    if version["status"] != "draft":
        return True
    key = bearer(request, request.headers.get("authorization"))
    return key is not None and caller(request, key).role in DRAFT_READERS


def _bbox(value: str | None, crs: str) -> shapely.Polygon | None:
    """The bbox parameter (in ``crs``'s axis order) as a polygon in CGCS2000 lon/lat."""
    numbers = parse_bbox(value)
    if numbers is None:
        return None
    box = shapely.box(*numbers)
    if crs == "OGC:CRS84":
        return box
    return gpd.GeoSeries([box], crs=pyproj.CRS(crs)).to_crs(CGCS2000).iloc[0].envelope


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
    out_crs = _parse_crs(crs, request, "crs")
    frame = _layer_at(request, kind, version).frame
    area = _bbox(bbox, _parse_crs(bbox_crs, request, "bbox-crs"))
    if area is not None:
        frame = frame[frame.intersects(area)]
    page = frame.iloc[offset : offset + limit]
    body = {
        "type": "FeatureCollection",
        "features": _features(page, out_crs),
        "numberMatched": len(frame),
        "numberReturned": len(page),
        "links": _page_links(request, offset, limit, len(frame)),
    }
    return _json(body, GEOJSON, {"Content-Crs": f"<{crs or CRS84}>"})


def _page_links(request: Request, offset: int, limit: int, matched: int) -> list[dict[str, str]]:
    url = request.url
    links = [{"href": str(url), "rel": "self", "type": GEOJSON}]
    if offset + limit < matched:
        links.append(
            {
                "href": str(url.include_query_params(offset=offset + limit)),
                "rel": "next",
                "type": GEOJSON,
            }
        )
    if offset > 0:
        links.append(
            {
                "href": str(url.include_query_params(offset=max(offset - limit, 0))),
                "rel": "prev",
                "type": GEOJSON,
            }
        )
    return links


def _features(frame: gpd.GeoDataFrame, crs: str) -> list[dict[str, Any]]:
    """GeoJSON features in ``crs``, in its authority's axis order."""
    geometry = frame.geometry if crs == "OGC:CRS84" else frame.geometry.to_crs(pyproj.CRS(crs))
    if pyproj.CRS(crs).axis_info[0].direction in ("north", "south"):
        geometry = geometry.map(lambda g: shapely.transform(g, lambda xy: xy[:, ::-1]))
    shapes = shapely.geometry.mapping
    properties = frame.drop(columns=frame.geometry.name)
    records = properties.astype(object).where(properties.notna(), None).to_dict("records")
    return [
        {"type": "Feature", "id": str(props["code"]), "geometry": shapes(geom), "properties": props}
        for props, geom in zip(records, geometry.array, strict=True)
    ]


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
        raise NotFound(f"collection {kind.value} has no feature {fid!r}")
    out_crs = _parse_crs(crs, request, "crs")
    [feature] = _features(hit, out_crs)
    feature["links"] = [
        {"href": str(request.url), "rel": "self", "type": GEOJSON},
        {
            "href": f"{_base(request)}/collections/{kind.value}",
            "rel": "collection",
            "type": "application/json",
        },
    ]
    return _json(feature, GEOJSON, {"Content-Crs": f"<{crs or CRS84}>"})
