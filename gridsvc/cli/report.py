"""``gridsvc report``: the evaluation (考核) as a CSV or Excel file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridsvc.cli.context import Opt, friendly, out, percent, settings
from gridsvc.cli.texts import current_lang, set_lang, t

app = typer.Typer(help=t("report_help"), no_args_is_help=True)


@app.command("evaluation", help=t("evaluation_help"))
@friendly
def report_evaluation(
    out_path: Annotated[Path, Opt("--out", "-o", help=t("eval_out"))],
    first_day: Annotated[str | None, Opt("--from", help=t("eval_from"))] = None,
    last_day: Annotated[str | None, Opt("--to", help=t("eval_to"))] = None,
    by: Annotated[str, Opt(help=t("eval_by"))] = "grid",
    lang: Annotated[str | None, Opt(help=t("eval_lang"))] = None,
    min_cases: Annotated[int | None, Opt(help=t("eval_min_cases"))] = None,
    line_score: Annotated[list[str] | None, Opt(help=t("eval_line_score"))] = None,
) -> None:
    """The evaluation (考核) of a period per grid, team, department, group, category or unit."""
    from gridsvc.core.evaluation import TownWeights
    from gridsvc.services.evaluation import EvaluationQuery, EvaluationService, file_writer
    from gridsvc.store.engine import make_engine, upgrade

    if lang:  # the file's language is the messages' too, and the other way round
        set_lang(lang)
    config = settings()
    first_day, last_day = _period(first_day, last_day)
    query = EvaluationQuery.parse(
        first_day, last_day, by, min_cases, current_lang(), line_score or ()
    )
    write = file_writer(out_path)
    upgrade(config.database_url)  # an older database gets the index the report reads by
    weights = TownWeights(config.evaluation_county_weight, config.evaluation_stationed_weight)
    service = EvaluationService.from_database(make_engine(config.database_url), weights)
    report = service.evaluate(query)
    out_path.write_bytes(write(report))
    total = report.total_row()
    ranked = sum(1 for row in report.rows() if row["rank"] is not None)
    period = {"first": query.first_day, "last": query.last_day}
    counts = {"rows": len(report.rows()), "ranked": ranked, "min_cases": query.min_cases}
    rate = percent(total["on_time_rate"])
    said = t(
        "eval_written",
        path=out_path,
        by=_grouping(by),
        due=total["due"],
        rate=rate,
        **period,
        **counts,
    )
    out.print(said)


def _grouping(by: str) -> str:
    """What the rows are, in the messages' language (``by`` itself when unknown)."""
    names = {
        "grid": t("by_grid"), "team": t("by_team"), "department": t("by_department"),
        "group": t("by_group"), "category": t("by_category"), "unit": t("by_unit"),
    }  # fmt: skip
    return names.get(by, by)


def _period(first_day: str | None, last_day: str | None) -> tuple[str, str]:
    """The days asked for, or the last full month (as the dashboard and the API default)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from gridsvc.core.errors import InvalidInput
    from gridsvc.core.evaluation import last_full_month
    from gridsvc.core.messages import Msg

    if first_day and last_day:
        return first_day, last_day
    if first_day or last_day:
        raise InvalidInput(Msg("cli.both_dates"))
    first, last = last_full_month(datetime.now(ZoneInfo("Asia/Shanghai")).date())
    return first.isoformat(), last.isoformat()
