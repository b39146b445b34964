"""Messages of layerio, pointfiles, town, store and maps."""

# fmt: off
FILES: dict[str, dict[str, str]] = {
    # layerio.py (图层文件)
    "file.wrong_geometry": {"zh": "{name}：{count} / {total} 个要素不是{kind:word}图层应有的几何；第一个：{first}", "en": "{name}: {count} of {total} features are not the geometry a {kind} layer holds; first: {first}"},
    "file.unknown_kind": {"zh": "未知图层类型 {kind!r}；可用的有 {allowed:list}", "en": "unknown layer kind {kind!r}; use one of {allowed:list}"},
    "file.write_suffix": {"zh": "无法写入 {name}：扩展名必须是 {allowed:list} 之一", "en": "cannot write {name}: the suffix must be one of {allowed:list}"},
    "file.missing": {"zh": "{path} 不存在或不是文件", "en": "{path} does not exist or is not a file"},
    "file.gdal": {"zh": "{name}：{reason}", "en": "{name}: {reason}"},
    "file.encoding": {"zh": "{name}：属性不是 {declared} 编码（{reason}）；请用 {param:encoding} 给出正确的编码，例如 GBK", "en": "{name}: the attributes are not in the {declared} encoding ({reason}); pass the right one with {param:encoding}, e.g. GBK"},
    "file.declared": {"zh": "声明的", "en": "declared"},
    "file.no_geometry": {"zh": "{name} 没有几何；它是一张表，不是地图图层", "en": "{name} has no geometry; it is a table, not a map layer"},
    "file.no_features": {"zh": "{name} 没有要素；{kind:word}图层至少需要一个要素", "en": "{name} has no features; a {kind} layer needs at least one"},
    "file.not_parquet": {"zh": "{name}：不是 GeoParquet 文件（{reason}）", "en": "{name}: not a GeoParquet file ({reason})"},
    "file.zip_empty": {"zh": "{name} 中没有 Shapefile（.shp）或其他矢量文件；里面是 {listing}", "en": "{name} holds no Shapefile (.shp) or other vector file; it holds {listing}"},
    "file.zip_nothing": {"zh": "空的", "en": "nothing"},
    "file.bad_zip": {"zh": "{name} 不是可读的 zip 压缩包（{reason}）", "en": "{name} is not a readable zip archive ({reason})"},
    "file.not_vector": {"zh": "{name} 不是 GDAL 能读的矢量文件（GeoPackage、Shapefile、压缩的 Shapefile、GeoJSON、FlatGeobuf）", "en": "{name} is not a vector file GDAL can read (GeoPackage, Shapefile, zipped Shapefile, GeoJSON, FlatGeobuf)"},
    "file.no_layer": {"zh": "{name} 中没有图层 {wanted!r}；现有的是 {listing}", "en": "{name} has no layer {wanted!r}; it has {listing}"},
    "file.which_layer": {"zh": "{name} 有 {count} 个图层（{listing}），没有一个名为 {kind}；请用 {param:layer} 选一个", "en": "{name} has {count} layers ({listing}) and none is named {kind}; choose one with {param:layer}"},
    "file.missing_fields": {"zh": "{name} 中没有 {missing:or}；它的字段是 {columns:list}；请用 {param:code_field}、{param:name_field}、{param:parent_field} 指明正确的字段", "en": "{name} has no {missing:or}; its fields are {columns:list}; name the right ones with {param:code_field}, {param:name_field}, {param:parent_field}"},
    "file.field_missing": {"zh": "{target}（字段 {field!r}）", "en": "{target} (field {field!r})"},
    "file.no_crs": {"zh": "{name} 没有坐标系；请用 {param:crs} 说明它是什么（EPSG:4490、EPSG:4549、wgs84、gcj02、bd09）", "en": "{name} has no coordinate reference system; say what it is with {param:crs} (EPSG:4490, EPSG:4549, wgs84, gcj02, bd09)"},
    "file.crs_disagrees": {"zh": "{name} 声明的坐标系是 {found}，但 {param:crs} 是 {declared!r}；请去掉 {param:crs} 或修正文件", "en": "{name} says its CRS is {found} but {param:crs} is {declared!r}; leave {param:crs} out or fix the file"},
    # pointfiles.py (点位文件)
    "points.input_type": {"zh": "{name}：不支持的输入类型 {suffix!r}；请用 {allowed:list}", "en": "{name}: unsupported input type {suffix!r}; use {allowed:list}"},
    "points.output_type": {"zh": "{name}：不支持的输出类型 {suffix!r}；请用 {allowed:list}", "en": "{name}: unsupported output type {suffix!r}; use {allowed:list}"},
    "points.no_file": {"zh": "{path}：文件不存在", "en": "{path}: no such file"},
    "points.bad_csv": {"zh": "{name}：不是可读的 CSV（{reason}）", "en": "{name}: not a readable CSV ({reason})"},
    "points.unreadable": {"zh": "{name}：无法读取（{reason}）", "en": "{name}: cannot be read ({reason})"},
    "points.no_column": {"zh": "{name}：没有 {given!r} 列；现有的列：{columns}", "en": "{name}: no column {given!r}; columns are {columns}"},
    "points.no_lon": {"zh": "{name}：找不到经度列（试过 {tried:list}）；请用 --lon-col 指明", "en": "{name}: no lon column found (tried {tried:list}); name it with --lon-col"},
    "points.no_lat": {"zh": "{name}：找不到纬度列（试过 {tried:list}）；请用 --lat-col 指明", "en": "{name}: no lat column found (tried {tried:list}); name it with --lat-col"},
    "points.not_points": {"zh": "{name}：只能匹配点几何；文件中有 {kinds}", "en": "{name}: only point geometries can be matched; found {kinds}"},
    # town.py (城镇的图层)
    "town.no_file": {"zh": "{path}：文件不存在", "en": "{path}: no such file"},
    "town.not_gpkg": {"zh": "{path}：不是可读的 GeoPackage（{reason}）", "en": "{path}: not a readable GeoPackage ({reason})"},
    "town.no_grids": {"zh": "{path}：没有 'grids'（责任网格）图层；现有的图层：{names}", "en": "{path}: has no 'grids' layer; its layers are {names}"},
    "town.blocking": {"zh": "本镇的图层有 {count} 个阻止发布的问题", "en": "the town's layers have {count} blocking problem(s)"},
    # maps/basemaps.py (底图)
    "basemap.unknown": {"zh": "未知底图 {name!r}；可用的有 {allowed:list}", "en": "unknown basemap {name!r}; expected one of {allowed:list}"},
    "basemap.offline": {"zh": "底图 {basemap!r} 要从互联网加载瓦片，而地图设为离线（GRIDSVC_MAPS_OFFLINE）；请用 'none' 或内网瓦片服务（GRIDSVC_TILE_URL）", "en": "basemap {basemap!r} loads tiles from the internet, and maps are offline (GRIDSVC_MAPS_OFFLINE); use 'none' or an intranet tile server (GRIDSVC_TILE_URL)"},
    "basemap.tianditu_key": {"zh": "天地图底图需要密钥：请设置 GRIDSVC_TIANDITU_KEY", "en": "the Tianditu basemap needs a key: set GRIDSVC_TIANDITU_KEY"},
    "basemap.no_intranet": {"zh": "没有配置内网瓦片服务：请设置 GRIDSVC_TILE_URL", "en": "no intranet tile server is configured: set GRIDSVC_TILE_URL"},
    # maps/labels.py
    "lang.unknown": {"zh": "未知语言 {lang!r}；可用的有 {langs:list}", "en": "unknown language {lang!r}; expected one of {langs:list}"},
}
# fmt: on
