"""Evaluation (考核) as a use case: a period's figures per grid, team, department,
working group, category or unit, named in Chinese (or English), as rows, CSV or XLSX.

The rules (due, on time, deferred, scores, ranking) are in
:mod:`gridsvc.core.evaluation`; here the period is read from the database as
columns (the cases, then the events of those the period can count), every case's
facts are taken from its history at once (:mod:`gridsvc.core.evaluation_frame`,
on the clock its deadlines run on), and the table gets its names.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from gridsvc.core.errors import InvalidInput
from gridsvc.core.evaluation import (
    DEFAULT_MIN_CASES,
    Period,
    ScoreWeights,
    TownWeights,
    bottom_up,
    earliest_report,
    kpi_frame,
    loop_hours,
    totals_frame,
)
from gridsvc.core.evaluation_frame import (
    LIMITS,
    before_period,
    facts_frame,
    rows_frame,
    zero_rows,
)
from gridsvc.core.kinds import town_level
from gridsvc.core.messages import Msg
from gridsvc.core.routing import ResponsibilityList
from gridsvc.core.workflow import Colour
from gridsvc.core.worktime import WorkCalendar
from gridsvc.services.case_rows import clock_for
from gridsvc.services.setup import LIST_KIND, read_calendar, read_matters
from gridsvc.store import evaluation as store
from gridsvc.store import matter_lists, reference

#: What a table can be grouped by, and the case column that holds the group.
BY: Mapping[str, str] = {
    "grid": "grid_code",
    "team": "team",
    "department": "department",
    "group": "group_code",
    "category": "category",
    "unit": "unit_code",
    "town": "town_code",
}
LANGS = ("zh", "en")


@dataclass(frozen=True)
class EvaluationQuery:
    """What to evaluate: the days ``first_day`` to ``last_day`` (both included, local time)."""

    first_day: date
    last_day: date
    by: str = "grid"
    min_cases: int = DEFAULT_MIN_CASES
    lang: str = "zh"
    line_scores: Mapping[str, float] = field(default_factory=dict)
    town: str | None = None  # one town's cases only (a town key's are always its own)

    @classmethod
    def parse(
        cls,
        first_day: str,
        last_day: str,
        by: str = "grid",
        min_cases: int | None = None,
        lang: str = "zh",
        line_scores: Iterable[str] = (),
        town: str | None = None,
    ) -> EvaluationQuery:
        """A query from what a user typed; every mistake is an InvalidInput naming the value."""
        if by not in BY:
            raise InvalidInput(Msg("eval.by", by=by, groupings=list(BY)))
        if lang not in LANGS:
            raise InvalidInput(Msg("eval.lang", lang=lang))
        scores = dict(_line_score(item) for item in line_scores)
        if scores and by != "department":
            raise InvalidInput(Msg("eval.line_scores_by"))
        minimum = DEFAULT_MIN_CASES if min_cases is None else min_cases
        if minimum < 1:
            raise InvalidInput(Msg("eval.min_cases", minimum=minimum))
        first, last = _day(first_day, "from"), _day(last_day, "to")
        if last < first:
            raise InvalidInput(Msg("eval.order", last=last, first=first))
        return cls(first, last, by, minimum, lang, scores, town)

    def period(self, calendar: WorkCalendar) -> Period:
        """Midnight of the first day to midnight after the last, on the town's clock."""
        start = datetime.combine(self.first_day, time(0), tzinfo=calendar.tz)
        end = datetime.combine(self.last_day + timedelta(days=1), time(0), tzinfo=calendar.tz)
        return Period(start, end)


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(Msg(f"eval.day_{name}", value=value)) from None


def _line_score(item: str) -> tuple[str, float]:
    code, sep, value = item.partition("=")
    try:
        if not (sep and code.strip()):
            raise ValueError
        return code.strip(), float(value)
    except ValueError:
        raise InvalidInput(Msg("eval.line_score_form", item=item)) from None


@dataclass(frozen=True)
class Evaluation:
    """A finished evaluation: the table (best first), the town's total and how it was read."""

    query: EvaluationQuery
    period: Period
    as_of: datetime
    table: pd.DataFrame
    total: pd.DataFrame
    score_weights: ScoreWeights
    not_evaluated: int = 0

    def rows(self) -> list[dict[str, Any]]:
        return _records(self.table)

    def total_row(self) -> dict[str, Any]:
        return _records(self.total)[0]

    def to_dict(self) -> dict[str, Any]:
        """The JSON answer: the query, the moment it was read at, rows and the total."""
        tz = self.period.start.tzinfo
        return {
            "from": self.query.first_day.isoformat(),
            "to": self.query.last_day.isoformat(),
            "as_of": self.as_of.astimezone(tz).isoformat(),
            "by": self.query.by,
            "min_cases": self.query.min_cases,
            "lang": self.query.lang,
            "rows": self.rows(),
            "total": self.total_row(),
            "not_evaluated": self.not_evaluated,
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain JSON values: NaN and <NA> become None, numpy numbers Python ones."""
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    return value


class EvaluationService:
    """Evaluate periods over the database with the town's responsibility list and calendar."""

    def __init__(
        self,
        engine: Engine,
        matters: ResponsibilityList,
        calendar: WorkCalendar,
        town_weights: TownWeights | None = None,
        score_weights: ScoreWeights | None = None,
        lang: str = "zh",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.lang = lang  # names and headers when a query does not say
        self.matters = matters
        self.calendar = calendar
        self.natural_time = WorkCalendar.continuous(calendar.tz.key)
        self.town_weights = town_weights or TownWeights()
        self.score_weights = score_weights or ScoreWeights()
        self.clock = clock
        self._lists: dict[int, ResponsibilityList] = {}  # list versions never change

    @classmethod
    def from_database(
        cls, engine: Engine, town_weights: TownWeights | None = None, lang: str = "zh"
    ) -> EvaluationService:
        """The service over a database that holds a town: its list and calendar are read there."""
        with engine.connect() as conn:  # the list and the calendar only: no layer is needed
            matters, calendar = read_matters(conn), read_calendar(conn)
        return cls(engine, matters, calendar, town_weights, lang=lang)

    def evaluate(self, query: EvaluationQuery) -> Evaluation:
        """The period's table per ``query.by`` (see gridsvc.core.evaluation for the rules)."""
        period = query.period(self.calendar)
        as_of = period.as_of(self.clock())
        known = [self.matters, *self._lists.values()]  # a longer old limit reaches further back
        longest_loop = max((loop_hours(m.limits) for lst in known for m in lst), default=0.0)
        since = earliest_report(period.start, longest_loop, self.calendar)
        clocks = [self.calendar, self.natural_time]
        with self.engine.connect() as conn:
            cases = store.case_columns(conn, since, as_of, query.town)
            cases["list_version"] = _list_versions(cases["layer_versions"])
            lists = self._lists_of(conn, set(cases["list_version"]))
            read, cases = len(cases), self._judged(cases, lists)
            early = before_period(cases, cases["first_at"].to_numpy(), clocks, period.start, as_of)
            cases = pd.concat([cases[~early], cases[early]], ignore_index=True)
            counted = cases.iloc[: len(cases) - int(early.sum())]
            events = store.event_columns(conn, counted["id"].tolist())
            names = self._names(conn, query.by)
            kinds = _department_kinds(conn) if query.by == "department" else {}
        position = np.searchsorted(counted["id"].to_numpy(), events["case_id"].to_numpy())
        facts = facts_frame(counted, events.assign(case=position), clocks, as_of)
        rows = pd.concat(
            [rows_frame(facts, period.start, as_of), zero_rows(int(early.sum()))],
            ignore_index=True,
        )
        keys = _keys(cases, facts, query.by)
        table = kpi_frame(keys, rows, query.min_cases, self.score_weights)
        if query.by == "department":
            table = bottom_up(table, kinds, self.town_weights, query.line_scores)
        table.insert(1, "name", [_name(names, key, query.lang) for key in table["key"]])
        total = totals_frame(rows, self.score_weights)
        skipped = read - len(rows)
        return Evaluation(query, period, as_of, table, total, self.score_weights, skipped)

    def _lists_of(self, conn: Any, versions: set[int]) -> dict[int, ResponsibilityList]:
        """The responsibility lists the cases were routed under, read once each and kept.

        A case is judged by the time limits it was given: a list published
        later with other limits does not make old cases late or on time.
        """
        for version in versions - {_NO_LIST} - set(self._lists):
            records = matter_lists.records(conn, version)
            if records:
                self._lists[version] = ResponsibilityList.from_records(records)
        return self._lists

    def _judged(self, cases: pd.DataFrame, lists: Mapping[int, ResponsibilityList]) -> pd.DataFrame:
        """The cases there is something to judge by, with their limits and clock: a matter
        in the list they were routed under, and a history.

        Limits, clocks and colours are looked up once per distinct list version, town,
        category and level, not once a case."""
        columns = ["list_version", "town_code", "category", "level"]
        groups = cases.groupby(columns, dropna=False, sort=False).ngroup().to_numpy()
        firsts = np.unique(groups, return_index=True)[1]
        limits = np.full((len(firsts), len(LIMITS)), np.nan)
        clock = np.zeros(len(firsts), dtype="int64")
        judged = np.zeros(len(firsts), dtype=bool)
        for group, (version, town, category, level) in enumerate(
            cases[columns].iloc[firsts].itertuples(index=False)
        ):
            matters = lists.get(int(version), self.matters)
            if category in matters:
                got = matters.for_town(town).get(category).limits
                limits[group] = [getattr(got, name) for name in LIMITS]
                natural = clock_for(level, self.calendar, self.natural_time) is self.natural_time
                clock[group], judged[group] = int(natural), True
        keep = judged[groups] & (cases["first_at"].to_numpy() != _NO_TIME)
        for colour in cases["colour"][keep].unique():
            Colour(colour)  # a colour the service does not know is refused, as before
        kept = cases[keep].assign(clock=clock[groups][keep])
        kept[list(LIMITS)] = limits[groups][keep]
        return kept.reset_index(drop=True)

    def _names(self, conn: Any, by: str) -> dict[str, tuple[str, str]]:
        if by in ("grid", "unit"):
            return store.feature_names(conn, "grids" if by == "grid" else "units")
        if by == "town":
            return store.feature_names(conn, town_level(reference.active_versions(conn)).value)
        if by == "category":
            return {m.code: (m.name, m.name_en) for m in self.matters}
        table = {"team": "teams", "department": "departments", "group": "working_groups"}[by]
        return {r["code"]: (r["name"], r["name_en"]) for r in reference.read_table(conn, table)}


_NO_LIST = -1
_NO_TIME = np.iinfo("int64").min  # a case without a history has no first event


def _list_versions(texts: pd.Series) -> np.ndarray:
    """The responsibility-list version each case was routed under (:data:`_NO_LIST` before
    lists had versions), from the stored layer versions' JSON, each distinct text read once."""
    values, where = np.unique(texts.fillna("null").to_numpy(dtype=str), return_inverse=True)
    versions = [(json.loads(v) or {}).get(LIST_KIND) for v in values]
    return np.array([int(v) if v else _NO_LIST for v in versions], dtype="int64")[where]


def _keys(cases: pd.DataFrame, facts: pd.DataFrame, by: str) -> list[str | None]:
    """The group each case counts for; an escalated case counts for the county bureau that
    answered."""
    values = cases[BY[by]].to_numpy(dtype=object)  # the counted cases first, as ``facts``
    if by == "department":
        escalated = np.full(len(values), None, dtype=object)
        escalated[: len(facts)] = facts["escalated_to"].to_numpy(dtype=object)
        values = np.where([bool(e) for e in escalated], escalated, values)
    return [None if v is None else str(v) for v in values]


def _name(names: Mapping[str, tuple[str, str]], key: Any, lang: str) -> str:
    if not isinstance(key, str):
        return "（无）" if lang == "zh" else "(none)"
    zh, en = names.get(key, (key, key))
    return zh if lang == "zh" or not en else en


def _department_kinds(conn: Any) -> dict[str, str]:
    return {r["code"]: r["kind"] for r in reference.read_table(conn, "departments")}


# ---- files: CSV and XLSX -------------------------------------------------------------------

#: Columns of the files: field, Chinese header, English header.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("rank", "排名", "Rank"),
    ("key", "代码", "Code"),
    ("name", "名称", "Name"),
    ("reported", "上报数", "Reported"),
    ("due", "应结案数", "Due"),
    ("deferred", "缓办数", "Deferred"),
    ("closed", "结案数", "Closed"),
    ("closed_on_time", "按期结案数", "Closed on time"),
    ("on_time_rate", "按期结案率", "On-time closure rate"),
    ("completion_rate", "结案率", "Completion rate"),
    ("handled", "处置数", "Handled"),
    ("reopened", "返工数", "Reopened"),
    ("rework_rate", "返工率", "Rework rate"),
    ("overdue", "超期数", "Overdue"),
    ("open_late", "超期未结案数", "Open past deadline"),
    ("yellow", "黄色", "Yellow"),
    ("orange", "橙色", "Orange"),
    ("red", "红色", "Red"),
    ("median_hours_to_dispatch", "派遣用时中位数(小时)", "Median hours to dispatch"),
    ("median_hours_to_handle", "处置用时中位数(小时)", "Median hours to handling"),
    ("median_hours_to_close", "结案用时中位数(小时)", "Median hours to closure"),
    ("score", "镇街评分", "Town score"),
)
DEPARTMENT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("kind", "类别", "Kind"),
    ("town_weight", "镇街评分权重", "Town weight"),
    ("line_score", "条线评分", "Line score"),
    ("overall_score", "综合评分", "Overall score"),
)
KINDS = {
    "county": "区县部门",
    "on_call": "区县部门(联络组)",
    "stationed": "派驻机构",
    "enforcement": "综合执法队",
    "town_office": "镇属办公室",
}
RATE_COLUMNS = frozenset({"on_time_rate", "completion_rate", "rework_rate", "town_weight"})
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def columns_of(report: Evaluation) -> tuple[tuple[str, str, str], ...]:
    return COLUMNS + (DEPARTMENT_COLUMNS if report.query.by == "department" else ())


def file_table(report: Evaluation) -> tuple[list[str], list[list[Any]]]:
    """Headers in the report's language, then one list per row and the total row last."""
    columns = columns_of(report)
    zh = report.query.lang == "zh"
    headers = [label_zh if zh else label_en for _, label_zh, label_en in columns]
    total = report.total_row() | {"key": "", "name": "合计" if zh else "Total"}
    body = []
    for row in [*report.rows(), total]:
        if zh and row.get("kind") in KINDS:
            row = row | {"kind": KINDS[row["kind"]]}
        body.append([row.get(name) for name, _, _ in columns])
    return headers, body


def to_csv(report: Evaluation) -> bytes:
    """UTF-8 with a BOM (Excel shows the Chinese names); the last row is the total."""
    headers, body = file_table(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows([["" if v is None else v for v in row] for row in body])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(report: Evaluation) -> bytes:
    """A workbook: the table (rates as percentages, total in bold) and a sheet of notes."""
    from openpyxl import Workbook  # here: 0.4 s of every server start, for a rare download
    from openpyxl.styles import Font

    headers, body = file_table(report)
    zh = report.query.lang == "zh"
    book = Workbook()
    sheet = book.active
    sheet.title = "考核" if zh else "Evaluation"
    sheet.append(headers)
    for row in body:
        sheet.append(row)
    for index, (name, _, _) in enumerate(columns_of(report), start=1):
        if name in RATE_COLUMNS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "0.0%"
    for cell in (*sheet[1], *sheet[sheet.max_row]):
        cell.font = Font(bold=True)
    sheet.freeze_panes = "D2"
    notes = book.create_sheet("说明" if zh else "Notes")
    for line in _notes(report):
        notes.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _notes(report: Evaluation) -> list[list[Any]]:
    q, w = report.query, report.score_weights
    score = (
        f"100 × ({w.on_time:g} × on_time_rate + {w.completion:g} × completion_rate "
        f"+ {w.rework:g} × (1 − rework_rate))"
    )
    return [
        ["from", q.first_day.isoformat()],
        ["to", q.last_day.isoformat()],
        ["as_of", report.as_of.astimezone(report.period.start.tzinfo).isoformat()],
        ["by", q.by],
        ["min_cases", q.min_cases],
        ["not_evaluated", report.not_evaluated],
        ["on_time_rate", "closed on time / (due − deferred)  按期结案数 / (应结案数 − 缓办数)"],
        ["completion_rate", "closed / due  结案数 / 应结案数"],
        ["rework_rate", "reopened / handled  返工数 / 处置数"],
        ["score", score],
        ["rank", f"by score, among groups with at least {q.min_cases} due cases"],
        ["overall_score", "town_weight × score + (1 − town_weight) × line_score"],
    ]


#: File formats by name (and file suffix): what each is written with, and its media type.
FILE_FORMATS: Mapping[str, tuple[Callable[[Evaluation], bytes], str]] = {
    "csv": (to_csv, "text/csv; charset=utf-8"),
    "xlsx": (to_xlsx, XLSX_MEDIA),
}


def file_writer(path: Path) -> Callable[[Evaluation], bytes]:
    """How to write a report to ``path``, by its suffix (.csv or .xlsx): ask before evaluating."""
    kind = path.suffix.lower().lstrip(".")
    if kind not in FILE_FORMATS:
        raise InvalidInput(Msg("eval.file_suffix", name=path.name))
    return FILE_FORMATS[kind][0]
