"""Messages of layerio, pointfiles, town, store and maps."""

# fmt: off
FILES: dict[str, dict[str, str]] = {
    # maps/labels.py
    "lang.unknown": {"zh": "未知语言 {lang!r}；可用的有 {langs:list}", "en": "unknown language {lang!r}; expected one of {langs:list}"},
}
# fmt: on
