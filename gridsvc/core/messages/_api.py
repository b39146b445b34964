"""Messages of the transports: gridsvc.api (HTTP) and gridsvc.cli (the command line)."""

# fmt: off
API: dict[str, dict[str, str]] = {
    # the command line's own refusals (cli/match.py, cli/report.py)
    "cli.crs_and_crs_col": {"zh": "--crs 和 --crs-col 只能给一个", "en": "give --crs or --crs-col, not both"},
    "cli.no_column": {"zh": "没有 {column!r} 列；现有的列：{columns}", "en": "no column {column!r}; columns are {columns}"},
    "cli.not_a_level": {"zh": "--layer {value!r}：{kind!r} 不是层级（{levels}）", "en": "--layer {value!r}: {kind!r} is not a level ({levels})"},
    "cli.grids_required": {"zh": "给了其他图层文件时必须给 --grids", "en": "--grids is required when other layer files are given"},
    "cli.both_dates": {"zh": "--from 和 --to 要么都给，要么都不给（即上个月）", "en": "give both --from and --to, or neither for last month"},
    # problems.py: what a 5xx says (never more)
    "server.failed": {"zh": "服务器未能完成请求", "en": "the server could not complete the request"},
    "server.retry": {"zh": "服务器未能完成请求；请稍后重试（如果发送了 Idempotency-Key，请用同一个）", "en": "the server could not complete the request; retry shortly (with the same Idempotency-Key, if one was sent)"},
    "server.database_away": {"zh": "数据库无法连接", "en": "the database is not reachable"},
}
# fmt: on
