"""The words on the maps, Chinese by default (the users are Chinese officials), English as an option."""

from __future__ import annotations

from gridsvc.core.errors import InvalidInput
from gridsvc.core.messages import Msg

LANGS = ("zh", "en")

_TEXT: dict[str, dict[str, str]] = {
    "coverage_title": {"zh": "网格覆盖图", "en": "Grid coverage"},
    "hotspots_title": {"zh": "案件热点图", "en": "Case hotspots"},
    "impact_title": {"zh": "网格调整影响图", "en": "Redraw impact"},
    "jurisdiction": {"zh": "辖区边界", "en": "Jurisdiction"},
    "towns": {"zh": "街镇", "en": "Towns"},
    "units": {"zh": "基本管理单元", "en": "Basic management units"},
    "grids": {"zh": "责任网格", "en": "Responsibility grids"},
    "grid_labels": {"zh": "网格名称", "en": "Grid names"},
    "committees": {"zh": "居村委", "en": "Residents' committees"},
    "cells": {"zh": "单元网格", "en": "Cells"},
    "streets": {"zh": "道路 (按责任工作站)", "en": "Streets (by responsible team)"},
    "code": {"zh": "编码", "en": "Code"},
    "name": {"zh": "名称", "en": "Name"},
    "team": {"zh": "责任工作站", "en": "Team"},
    "area_km2": {"zh": "面积 (平方公里)", "en": "Area (km²)"},
    "street_km": {"zh": "道路长度 (公里)", "en": "Street length (km)"},
    "open_cases": {"zh": "在办案件", "en": "Open cases"},
    "cases": {"zh": "案件数", "en": "Cases"},
    "rate_km2": {"zh": "每平方公里案件数", "en": "Cases per km²"},
    "gi_grids": {"zh": "热点显著性 (Gi*, 网格)", "en": "Hot/cold spots (Gi*, grids)"},
    "gi_cells": {"zh": "热点显著性 (Gi*, 单元网格)", "en": "Hot/cold spots (Gi*, cells)"},
    "cell_cases": {"zh": "单元网格案件数", "en": "Cases per cell"},
    "cell_rate_km2": {"zh": "单元网格每平方公里案件数", "en": "Cases per km² (cells)"},
    "heat": {"zh": "案件热力 (聚合)", "en": "Case heat (aggregated)"},
    "heat_sample": {"zh": "(按 {pct}% 抽样)", "en": "(from a {pct}% sample)"},
    "time_view": {"zh": "热点随时间变化", "en": "Hotspots over time"},
    "period": {"zh": "时段", "en": "Period"},
    "hot99": {"zh": "热点 99% 置信", "en": "Hot spot, 99 % confidence"},
    "hot95": {"zh": "热点 95% 置信", "en": "Hot spot, 95 % confidence"},
    "hot90": {"zh": "热点 90% 置信", "en": "Hot spot, 90 % confidence"},
    "not_significant": {"zh": "不显著", "en": "Not significant"},
    "cold90": {"zh": "冷点 90% 置信", "en": "Cold spot, 90 % confidence"},
    "cold95": {"zh": "冷点 95% 置信", "en": "Cold spot, 95 % confidence"},
    "cold99": {"zh": "冷点 99% 置信", "en": "Cold spot, 99 % confidence"},
    "gi_z": {"zh": "Gi* z 值", "en": "Gi* z-score"},
    "top_grids": {"zh": "案件最多的网格", "en": "Grids with most cases"},
    "top_categories": {"zh": "案件最多的类别", "en": "Most frequent categories"},
    "category": {"zh": "类别", "en": "Category"},
    "total": {"zh": "合计", "en": "Total"},
    "no_cases": {"zh": "所选条件下没有案件", "en": "No cases match the filters"},
    "old_grids": {"zh": "现行网格", "en": "Current grids"},
    "new_grids": {"zh": "调整后网格 (草案)", "en": "Redrawn grids (draft)"},
    "moved_cases": {"zh": "改变归属的案件", "en": "Cases that move"},
    "from_grid": {"zh": "原网格", "en": "From grid"},
    "to_grid": {"zh": "新网格", "en": "To grid"},
    "shown_of": {"zh": "显示 {shown} / 共 {total}", "en": "{shown} shown of {total}"},
    "basemap_none": {"zh": "无底图", "en": "No basemap"},
    "osm": {"zh": "OpenStreetMap", "en": "OpenStreetMap"},
    "tianditu": {"zh": "天地图", "en": "Tianditu"},
    "tianditu_labels": {"zh": "天地图注记", "en": "Tianditu labels"},
    "amap": {"zh": "高德地图 (GCJ-02)", "en": "AMap (GCJ-02)"},
    "intranet": {"zh": "内网底图", "en": "Intranet basemap"},
    "filters": {"zh": "筛选", "en": "Filters"},
    "all": {"zh": "全部", "en": "all"},
}


def check_lang(lang: str) -> str:
    """The language code, or a clear error naming the ones we speak."""
    if lang not in LANGS:
        raise InvalidInput(Msg("lang.unknown", lang=lang, langs=list(LANGS)))
    return lang


def text(key: str, lang: str, **values: object) -> str:
    """The label ``key`` in ``lang``, with ``{name}`` placeholders filled in."""
    words = _TEXT[key][check_lang(lang)]
    return words.format(**values) if values else words
