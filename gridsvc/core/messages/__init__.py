"""The catalogue of what gridsvc tells its users when something is refused: Chinese and English.

Shaped like the maps' catalogue (:mod:`gridsvc.maps.labels`): a key gives
``{"zh": ..., "en": ...}``. Placeholders are named, in :meth:`str.format` syntax
(``{value!r}``, ``{rows:,}``), plus three of our own:

- ``{param:name}`` (or ``{param:by=department}``): a parameter the user should
  change, left for the transport to spell (``name=`` in the API, ``--name`` on
  the command line; see :meth:`gridsvc.core.errors.GridsvcError.render`);
- ``{role:word}``: a value that is one of the domain's words (a role, a case's
  status, an action, a level) in the message's language: ``patrol`` → 网格员;
- ``{allowed:words}`` and ``{names:list}``: a list, its items as words or as they
  are, joined the language's way (``a, b`` / ``a、b``); ``{kinds:or}``: words joined
  by "or" (``a or b`` / ``a或b``).

The entries live in one module per package (``_core``, ``_services``, ``_api``,
``_files``) and one for the planners' layer work (``_planning``), so no file grows past reading; the titles of the error classes
(by their stable ``code``) and the words are here. Nothing here imports more
than the standard library: the command line reads it before ``--help``.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from typing import Any

from gridsvc.core.messages._api import API
from gridsvc.core.messages._core import CORE
from gridsvc.core.messages._files import FILES
from gridsvc.core.messages._planning import PLANNING
from gridsvc.core.messages._services import SERVICES
from gridsvc.core.messages._validation import VALIDATION

LANGS = ("zh", "en")

MESSAGES: dict[str, dict[str, str]] = {**CORE, **SERVICES, **PLANNING, **API, **FILES, **VALIDATION}

# fmt: off
#: the title of each error class by its stable ``code`` (core/errors.py), the API's problem
#: ``title`` and the CLI's 错误（…）
TITLES: dict[str, dict[str, str]] = {
    "error": {"zh": "系统错误", "en": "gridsvc error"},
    "invalid-input": {"zh": "输入无效", "en": "Invalid input"},
    "coordinates-out-of-range": {"zh": "坐标超出范围", "en": "Coordinates out of range"},
    "swapped-coordinates": {"zh": "经纬度疑似颠倒", "en": "Longitude and latitude look swapped"},
    "outside-jurisdiction": {"zh": "点位在辖区之外", "en": "Point outside the jurisdiction"},
    "unknown-crs": {"zh": "未知坐标系", "en": "Unknown coordinate reference system"},
    "missing-crs": {"zh": "数据未声明坐标系", "en": "The data has no coordinate reference system"},
    "invalid-layer": {"zh": "图层无效", "en": "Invalid layer"},
    "unreadable-file": {"zh": "文件无法读取", "en": "The file cannot be read"},
    "unknown-category": {"zh": "未知类别", "en": "Unknown category"},
    "too-many-rows": {"zh": "导出行数过多", "en": "Too many rows for one export"},
    "not-found": {"zh": "未找到", "en": "Not found"},
    "method-not-allowed": {"zh": "不支持此请求方法", "en": "Method Not Allowed"},
    "conflict": {"zh": "冲突", "en": "Conflict"},
    "illegal-transition": {"zh": "当前状态不允许此操作", "en": "Action not allowed in this state"},
    "stale-version": {"zh": "数据已被修改", "en": "The resource changed since it was read"},
    "unknown-action": {"zh": "未知操作", "en": "Unknown action"},
    "forbidden": {"zh": "无权操作", "en": "Forbidden"},
    "storage-unavailable": {"zh": "数据库不可用", "en": "Storage unavailable"},
    "inconsistent-storage": {"zh": "数据库需要修复", "en": "The database needs mending"},
    "idempotency-key-reused": {"zh": "幂等键已用于不同内容", "en": "Idempotency-Key reused with a different body"},
    "unauthenticated": {"zh": "需要密钥", "en": "Authentication required"},
    "precondition-required": {"zh": "缺少 If-Match 版本", "en": "If-Match required"},
    "payload-too-large": {"zh": "内容过大", "en": "Request body too large"},
    "unsupported-media-type": {"zh": "不支持的文件类型", "en": "Unsupported media type"},
    "rate-limited": {"zh": "请求过于频繁", "en": "Too many requests"},
    # problems that are not domain errors (api/problems.py)
    "request-validation": {"zh": "请求无效", "en": "Invalid request"},
    "internal": {"zh": "系统内部错误", "en": "Internal error"},
}

#: the domain's words that messages name by value: roles, case statuses, actions, levels
WORDS: dict[str, str] = {
    "patrol": "网格员", "dispatcher": "调度员", "handler": "处置部门", "planner": "规划员",
    "leader": "领导", "admin": "管理员",
    "reported": "待派遣", "dispatched": "已派遣", "accepted": "处置中", "handled": "已处置",
    "verified": "已核查", "closed": "已结案", "returned": "已退回", "escalated": "已上报上级",
    "referred": "已提交区中心", "reopened": "重新办理", "duplicate": "重复案件",
    "cancelled": "已作废",
    "report": "上报", "attach": "上传照片", "dispatch": "派遣", "accept": "受理",
    "return": "退回", "handle": "处置反馈", "verify": "核查", "close": "结案",
    "reopen": "重新办理", "escalate": "上报区级", "refer": "提交区中心", "send_back": "退回街镇",
    "cancel": "作废", "defer": "缓办", "fix": "自行处置", "remind": "催办",
    "jurisdiction": "辖区", "towns": "街镇", "units": "基本管理单元", "grids": "责任网格",
    "committees": "居村委", "cells": "单元网格", "streets": "道路段",
    "draft": "草案", "published": "现行", "retired": "已停用",
    "grid": "网格", "town": "街镇", "county": "区县", "district": "区", "department": "部门",
    # validation: what each feature is called, what is wrong, and GEOS's reasons
    "unit": "基本管理单元", "committee": "居村委", "cell": "单元网格", "street segment": "道路段",
    "gap": "缝隙", "overlap": "重叠",
    "Self-intersection": "自相交", "Ring Self-intersection": "环自相交",
    "Too few points in geometry component": "几何部件的点数过少",
    "Hole lies outside shell": "内环位于外环之外", "Holes are nested": "内环互相嵌套",
    "Interior is disconnected": "内部不连通", "Nested shells": "外环互相嵌套",
    "Duplicate Rings": "环重复", "Invalid Coordinate": "坐标无效", "Ring is not closed": "环未闭合",
}
# fmt: on


class Msg:
    """A message by catalogue key with its values: what a :class:`GridsvcError` is raised with.

    ``Msg("bbox.order", value="1,2,0,0")``; the text is chosen when it is shown,
    in the language of whoever reads it.
    """

    __slots__ = ("key", "values")

    def __init__(self, key: str, /, **values: Any) -> None:
        if key not in MESSAGES:
            raise KeyError(f"no message {key!r} in gridsvc.core.messages")
        self.key, self.values = key, values

    def text(self, lang: str) -> str:
        """The message in ``lang`` (English for a language we do not speak), ``{param:…}`` kept."""
        entry = MESSAGES[self.key]
        template = entry.get(lang) or entry["en"]
        return _Formatter(lang).vformat(template, (), {"param": _Param(), **self.values})

    def __repr__(self) -> str:
        return f"Msg({self.key!r}, **{self.values!r})"


class _Param:
    """Stands for ``param`` while formatting: gives ``{param:spec}`` back for the transport."""

    def __format__(self, spec: str) -> str:
        return "{param:" + spec + "}"


class _Formatter(string.Formatter):
    """str.format with the catalogue's own specs (``word``, ``words``, ``list``, ``or``), in one language.

    One per message shown: the language is the formatter's, and requests format at once.
    """

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Msg):  # a part of the message that is a message of its own
            value = value.text(self.lang)
        if format_spec == "word":
            return word(str(value), self.lang)
        if format_spec in ("words", "list", "or"):
            items = [v.text(self.lang) if isinstance(v, Msg) else str(v) for v in value]
            if format_spec != "list":
                items = [word(v, self.lang) for v in items]
            zh = self.lang == "zh"
            joint = ("或" if zh else " or ") if format_spec == "or" else ("、" if zh else ", ")
            return joint.join(items) or ("无" if zh else "none")
        return str(super().format_field(value, format_spec))


def word(value: str, lang: str) -> str:
    """A domain word in ``lang``: the Chinese one in zh, the value itself (English) otherwise."""
    return WORDS.get(value, value) if lang == "zh" else value


def title(codes: Iterable[str], lang: str) -> str:
    """The title of the first of ``codes`` (an error class's MRO) that has one, in ``lang``."""
    entry = next((TITLES[c] for c in codes if c in TITLES), TITLES["error"])
    return entry.get(lang) or entry["en"]


def placeholders(template: str) -> set[str]:
    """The names a template fills in (``{param:…}`` not among them): what a raise must give."""
    names = {
        field.split(".")[0].split("[")[0]
        for _, field, _, _ in string.Formatter().parse(template)
        if field
    }
    return names - {"param"}


def text(key: str, lang: str, **values: Any) -> str:
    """The message ``key`` in ``lang`` with its values, for words that are not an error's."""
    return Msg(key, **values).text(lang)


__all__ = ["LANGS", "MESSAGES", "TITLES", "WORDS", "Msg", "placeholders", "text", "title", "word"]
