"""What a client writes to a draft over OGC API – Features Part 4: one GeoJSON feature, or a
merge patch of one, read into what ``services.draft_editing`` takes.

QGIS's OAPIF provider sends what it read back: a Feature whose ``properties``
hold ``code``, ``name``, ``parent_code`` and the other attributes (null for an
empty field), the geometry in the CRS named by ``Content-Crs`` and in that
CRS's axis order; a PATCH (``application/merge-patch+json``) holds only the
geometry or only the changed properties. Anything that is not such a body is
an InvalidInput naming what is wrong, before anything is written.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request

from gridsvc.core.draft_edits import feature_geometry
from gridsvc.core.errors import InvalidInput, UnsupportedMediaType
from gridsvc.core.layers import LayerKind
from gridsvc.core.messages import Msg
from gridsvc.services.draft_editing import FeatureInput

FEATURE_MEDIA = frozenset({"application/geo+json", "application/json"})
PATCH_MEDIA = FEATURE_MEDIA | {"application/merge-patch+json"}
_NAMED = ("code", "name", "parent_code")  # columns of their own; the rest are attributes
_SCALARS = (str, int, float, bool)


async def feature_body(request: Request) -> Any:
    """The request's JSON body (a dependency: FastAPI would not read geo+json by itself)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    allowed = PATCH_MEDIA if request.method == "PATCH" else FEATURE_MEDIA
    if media not in allowed:
        shown = media or Msg("limits.no_media")
        raise UnsupportedMediaType(Msg("feature.media", allowed=sorted(allowed), media=shown))
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(Msg("feature.not_json", reason=str(exc))) from None


def read_feature(body: Any, crs: str, kind: LayerKind, fid: str | None = None) -> FeatureInput:
    """A whole feature (POST, PUT): its code is ``properties.code``, else the feature's id,
    else ``fid`` (the path's); its geometry in ``crs`` becomes CGCS2000 lon/lat."""
    if not isinstance(body, dict) or body.get("type") != "Feature":
        raise InvalidInput(Msg("feature.not_feature"))
    properties = _properties(body)
    code = properties.get("code")
    if code is None:
        code = body.get("id", fid)
    return FeatureInput(
        code=_text(code, "code"),
        name=_text(properties.get("name"), "name"),
        parent_code=_text(properties.get("parent_code"), "parent_code"),
        attrs={k: v for k, v in _attributes(properties).items() if v is not None},
        geometry=feature_geometry(body.get("geometry"), crs, kind),
    )


def read_patch(body: Any, crs: str, kind: LayerKind, fid: str) -> dict[str, Any]:
    """A JSON merge patch of feature ``fid`` (RFC 7396: a property set to null is removed)
    as the changes ``DraftEditor.update`` takes."""
    if not isinstance(body, dict):
        raise InvalidInput(Msg("feature.patch_object"))
    changes: dict[str, Any] = {}
    if "geometry" in body:
        if body["geometry"] is None:
            raise InvalidInput(Msg("feature.geometry_removed"))
        changes["geometry"] = feature_geometry(body["geometry"], crs, kind)
    properties = _properties(body) if "properties" in body else {}
    code = properties.get("code")
    if code is not None and _text(code, "code") != fid:
        raise InvalidInput(Msg("feature.code_is_id", fid=fid, code=code))
    for field in ("name", "parent_code"):
        if field in properties:
            value = properties[field]
            changes[field] = None if value is None else _text(value, field)
    attrs = _attributes(properties)
    if attrs:
        changes["attrs"] = attrs
    return changes


def _properties(body: dict[str, Any]) -> dict[str, Any]:
    properties = body.get("properties")
    if properties is None:
        return {}
    if not isinstance(properties, dict):
        raise InvalidInput(Msg("feature.properties_object"))
    return properties


def _attributes(properties: dict[str, Any]) -> dict[str, Any]:
    """The properties other than code, name and parent_code: JSON scalars or null. ``id`` is
    the feature's, not an attribute (a client may echo it among the properties)."""
    attrs = {k: v for k, v in properties.items() if k not in (*_NAMED, "id")}
    for key, value in attrs.items():
        if value is not None and not isinstance(value, _SCALARS):
            raise InvalidInput(Msg("feature.attribute_type", key=key, type=type(value).__name__))
    return attrs


def _text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidInput(Msg("feature.not_string", field=field, got=orjson.dumps(value).decode()))
    return str(value)
