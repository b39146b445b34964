"""Pydantic's refusals of a request body or parameter, in the request's language.

FastAPI's 422 lists pydantic's own messages, which are English; a Chinese page
or phone would show them to a patrol as they are. The common error types get a
Chinese sentence here, with pydantic's ``ctx`` values (limits, allowed values);
a type not listed keeps pydantic's English, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: pydantic error ``type`` → Chinese, with ``{name}`` taken from the error's ``ctx``
_ZH: dict[str, str] = {
    "missing": "必填，缺少此项",
    "json_invalid": "不是有效的 JSON：{error}",
    "json_type": "应为 JSON 文本",
    "model_attributes_type": "应为对象",
    "model_type": "应为对象",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "extra_forbidden": "不认识的字段",
    "string_type": "应为文本",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不对，应符合 {pattern}",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数，不能有小数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "应为有限的数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "datetime_type": "应为 ISO 8601 时间",
    "datetime_parsing": "应为 ISO 8601 时间",
    "datetime_from_date_parsing": "应为 ISO 8601 时间",
    "timezone_aware": "时间应带时区",
    "uuid_type": "应为 UUID",
    "uuid_parsing": "应为 UUID",
}


def issue_message(error: Mapping[str, Any], lang: str) -> str:
    """One pydantic error's message in ``lang``: Chinese where its type is known."""
    english = str(error.get("msg", ""))
    template = _ZH.get(str(error.get("type", ""))) if lang == "zh" else None
    if template is None:
        return english
    try:
        return template.format_map({k: str(v) for k, v in (error.get("ctx") or {}).items()})
    except (KeyError, IndexError, ValueError):  # a ctx without the value: the English then
        return english
