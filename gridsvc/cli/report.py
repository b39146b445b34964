"""``gridsvc report``: the evaluation (考核) as a CSV or Excel file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridsvc.cli.context import Opt, friendly, out, percent, settings

app = typer.Typer(help="reports: evaluation (考核)", no_args_is_help=True)


@app.command("evaluation")
@friendly
def report_evaluation(
    out_path: Annotated[Path, Opt("--out", "-o", help="the file to write: .csv or .xlsx")],
    first_day: Annotated[
        str | None, Opt("--from", help="first day, YYYY-MM-DD (default: last month's first)")
    ] = None,
    last_day: Annotated[
        str | None, Opt("--to", help="last day (included), YYYY-MM-DD (default: last month's last)")
    ] = None,
    by: Annotated[str, Opt(help="grid, team, department, group, category or unit")] = "grid",
    lang: Annotated[str | None, Opt(help="names and headers: zh or en")] = None,
    min_cases: Annotated[int | None, Opt(help="due cases a group needs to be ranked")] = None,
    line_score: Annotated[
        list[str] | None, Opt(help="CODE=SCORE: a department's line assessment (by department)")
    ] = None,
) -> None:
    """The evaluation (考核) of a period per grid, team, department, group, category or unit."""
    from gridsvc.core.evaluation import TownWeights
    from gridsvc.services.evaluation import EvaluationQuery, EvaluationService, file_writer
    from gridsvc.store.engine import make_engine, upgrade

    config = settings()
    first_day, last_day = _period(first_day, last_day)
    query = EvaluationQuery.parse(
        first_day, last_day, by, min_cases, lang or config.lang, line_score or ()
    )
    write = file_writer(out_path)
    upgrade(config.database_url)  # an older database gets the index the report reads by
    weights = TownWeights(config.evaluation_county_weight, config.evaluation_stationed_weight)
    service = EvaluationService.from_database(make_engine(config.database_url), weights)
    report = service.evaluate(query)
    out_path.write_bytes(write(report))
    total = report.total_row()
    ranked = sum(1 for row in report.rows() if row["rank"] is not None)
    out.print(
        f"wrote {out_path} ({query.first_day} to {query.last_day}): "
        f"{len(report.rows())} {by} row(s), {ranked} ranked "
        f"(at least {query.min_cases} due cases); {total['due']} case(s) due, "
        f"on-time closure rate {percent(total['on_time_rate'])}"
    )


def _period(first_day: str | None, last_day: str | None) -> tuple[str, str]:
    """The days asked for, or the last full month (as the dashboard and the API default)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from gridsvc.core.errors import InvalidInput
    from gridsvc.core.evaluation import last_full_month

    if first_day and last_day:
        return first_day, last_day
    if first_day or last_day:
        raise InvalidInput("give both --from and --to, or neither for last month")
    first, last = last_full_month(datetime.now(ZoneInfo("Asia/Shanghai")).date())
    return first.isoformat(), last.isoformat()
