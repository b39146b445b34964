"""What every OGC API – Features route speaks: CRS URIs, GeoJSON in a CRS's axis order, pages.

Shared by the published collections (``routes/ogc.py``) and the drafts'
(``routes/ogc_drafts.py``), so both answer the same CRS names with the same
axis order (Part 2: EPSG:4490 and the Gauss-Krüger zones are north first) and
page the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import pyproj
import shapely
from fastapi import Request, Response

from gridsvc.api.params import parse_bbox
from gridsvc.api.problems import json_bytes
from gridsvc.core.crs import CGCS2000
from gridsvc.core.errors import InvalidInput
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.messages import Msg

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
GEOJSON = "application/geo+json"
MAX_LIMIT = 10_000
READ_ONLY = "GET, HEAD, OPTIONS"  # the Allow of a collection nobody may write
TITLES = {
    LayerKind.JURISDICTION: ("辖区", "Jurisdiction"),
    LayerKind.TOWNS: ("街镇", "Towns"),
    LayerKind.UNITS: ("基本管理单元", "Basic management units"),
    LayerKind.GRIDS: ("责任网格", "Responsibility grids"),
    LayerKind.COMMITTEES: ("居委", "Residents' committees"),
    LayerKind.CELLS: ("单元网格", "Unit cells"),
    LayerKind.STREETS: ("街道路段", "Street segments"),
}


class GeoJSONResponse(Response):
    """What the items routes answer (RFC 7946), so their OpenAPI says so."""

    media_type = GEOJSON


GEOJSON_OK: dict[int | str, dict[str, Any]] = {
    200: {"content": {GEOJSON: {"schema": {"type": "object", "description": "RFC 7946 GeoJSON"}}}}
}


def ogc_base(request: Request) -> str:
    """The /ogc root as the client reached it."""
    return str(request.base_url).rstrip("/") + "/ogc"


def ogc_json(
    content: Any,
    media_type: str = "application/json",
    headers: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return Response(
        json_bytes(content), status_code=status_code, media_type=media_type, headers=headers
    )


def crs_uris(request: Request) -> list[str]:
    """The CRSs offered: CRS84, EPSG:4490 and the town's Gauss-Krüger zone."""
    epsg = request.app.state.matcher.work_epsg
    return [CRS84, EPSG_URI.format(4490), EPSG_URI.format(epsg)]


def parse_crs(uri: str | None, request: Request, what: str) -> str:
    """A supported CRS URI → a pyproj string; CRS84 when none is given."""
    if uri is None or uri == CRS84:
        return "OGC:CRS84"
    if uri in crs_uris(request):
        return "EPSG:" + uri.rsplit("/", 1)[1]
    raise InvalidInput(Msg("ogc.crs_offered", what=what, uri=uri, offered=crs_uris(request)))


def content_crs(crs: str | None) -> dict[str, str]:
    """The Content-Crs header of an answer in ``crs`` (a URI as asked, CRS84 by default)."""
    return {"Content-Crs": f"<{crs or CRS84}>"}


def north_first(crs: str) -> bool:
    """Whether ``crs``'s authority puts the northing first (EPSG:4490, the Gauss-Krüger zones)."""
    return pyproj.CRS(crs).axis_info[0].direction in ("north", "south")


def bbox_polygon(value: str | None, crs: str) -> shapely.Polygon | None:
    """The bbox parameter (in ``crs``'s axis order, as Part 2 says and QGIS sends it) as a
    polygon in CGCS2000 lon/lat."""
    numbers = parse_bbox(value)
    if numbers is None:
        return None
    box = shapely.box(*numbers)
    if crs == "OGC:CRS84":
        return box
    if north_first(crs):  # pyproj below is always_xy: east first
        box = shapely.transform(box, lambda xy: xy[:, ::-1])
    return gpd.GeoSeries([box], crs=pyproj.CRS(crs)).to_crs(CGCS2000).iloc[0].envelope


def collection_doc(
    request: Request, collection_id: str, title: str, description: str, layer: Layer
) -> dict[str, Any]:
    """One collection's description: extent, CRSs and links."""
    base = ogc_base(request)
    bounds = layer.frame.total_bounds if len(layer.frame) else [None] * 4
    minx, miny, maxx, maxy = (None if v is None else float(v) for v in bounds)
    return {
        "id": collection_id,
        "title": title,
        "description": description,
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [[minx, miny, maxx, maxy]], "crs": CRS84}},
        "crs": crs_uris(request),
        "storageCrs": EPSG_URI.format(4490),
        "links": [
            {
                "href": f"{base}/collections/{collection_id}",
                "rel": "self",
                "type": "application/json",
            },
            {"href": f"{base}/collections/{collection_id}/items", "rel": "items", "type": GEOJSON},
        ],
    }


def page_links(request: Request, offset: int, limit: int, matched: int) -> list[dict[str, str]]:
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


def features_of(frame: gpd.GeoDataFrame, crs: str, id_column: str = "code") -> list[dict[str, Any]]:
    """GeoJSON features in ``crs``, in its authority's axis order (a missing geometry: null)."""
    geometry = frame.geometry if crs == "OGC:CRS84" else frame.geometry.to_crs(pyproj.CRS(crs))
    if north_first(crs):
        geometry = geometry.map(
            lambda g: None if g is None else shapely.transform(g, lambda xy: xy[:, ::-1])
        )
    properties = frame.drop(columns=frame.geometry.name)
    records = properties.astype(object).where(properties.notna(), None).to_dict("records")
    return [
        {
            "type": "Feature",
            "id": str(props[id_column]),
            "geometry": None if geom is None else shapely.geometry.mapping(geom),
            "properties": props,
        }
        for props, geom in zip(records, geometry.array, strict=True)
    ]


def items_page(
    request: Request, frame: gpd.GeoDataFrame, area: shapely.Polygon | None, page: tuple[int, int]
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The features of ``frame`` meeting ``area``, one (offset, limit) page of them, and the
    FeatureCollection's members other than the features."""
    if area is not None:
        frame = frame[frame.intersects(area)]
    offset, limit = page
    rows = frame.iloc[offset : offset + limit]
    return rows, {
        "numberMatched": len(frame),
        "numberReturned": len(rows),
        "links": page_links(request, offset, limit, len(frame)),
    }


def feature_collection(
    request: Request,
    load: Callable[[], gpd.GeoDataFrame],
    page: tuple[int, int],
    crs: str | None,
    bbox: tuple[str | None, str | None],
    id_column: str = "code",
    served: Callable[[gpd.GeoDataFrame], None] | None = None,
) -> Response:
    """The ``items`` answer of any collection: ``crs`` checked, then the features ``load``
    gives, cut to the ``bbox`` (value, bbox-crs) and the (offset, limit) page; ``served``
    is told the page's rows (a draft records the ETags each key was shown)."""
    out_crs = parse_crs(crs, request, "crs")
    frame = load()
    area = bbox_polygon(bbox[0], parse_crs(bbox[1], request, "bbox-crs"))
    rows, counts = items_page(request, frame, area, page)
    body = {"type": "FeatureCollection", "features": features_of(rows, out_crs, id_column)}
    if served is not None:
        served(rows)
    return ogc_json(body | counts, GEOJSON, content_crs(crs))
