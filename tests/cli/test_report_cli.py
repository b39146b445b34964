"""``gridsvc report evaluation``: a week of imported history written to CSV and XLSX.

The week 2025-06-16 (Monday) to 06-22 is imported the way the demo's history
is (``reports.csv``: report, dispatch, handling and closure times, a reopen
count) into a fresh database. The week is over, so the report reads it as of
06-23 00:00 whatever today is. Expected figures are worked out by hand:

- CG01 (grid level, natural time; loop 0.5 + 1 + 4 + 8 + 8 = 21.5 h): one
  case closed on time but reopened once (the count came with the import),
  one closed after its deadline (06-17 07:30).
- CG11 (town level, working hours 09-12 and 13-18; loop 0.5 + 1 + 8 + 8 + 8 =
  25.5 working hours): reported Monday 09:00, due Thursday 06-19 10:30
  (8 + 8 + 8 + 1.5 hours), closed Thursday 10:00: on time. On natural time
  it would have been due on Tuesday and late. A second CG11 case reported
  Friday 17:00 is due the next Thursday, after the week.
"""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from click.testing import Result
from typer.testing import CliRunner

from gridsvc.cli import app
from gridsvc.config import DEMO_DIR
from gridsvc.services.setup import load_demo
from gridsvc.store.engine import make_engine, upgrade

INSIDE = "121.442747,31.339568,cgcs2000"  # in grid 310106113G01
WEEK = ["--from", "2025-06-16", "--to", "2025-06-22"]
HISTORY = f"""report_id,reported_at,category,lon,lat,crs,description,reporter,source,severity,status,dispatched_at,handled_at,closed_at,reopened
R1,2025-06-16T09:00+08:00,CG01,{INSIDE},摊贩,P1,patrol,1,closed,2025-06-16T09:10+08:00,2025-06-16T10:00+08:00,2025-06-16T11:00+08:00,1
R2,2025-06-16T10:00+08:00,CG01,{INSIDE},摊贩,P1,patrol,1,closed,2025-06-16T10:10+08:00,2025-06-17T10:00+08:00,2025-06-17T11:00+08:00,0
R3,2025-06-16T09:00+08:00,CG11,{INSIDE},夜间施工,P2,patrol,1,closed,2025-06-16T09:20+08:00,2025-06-18T10:00+08:00,2025-06-19T10:00+08:00,0
R4,2025-06-20T17:00+08:00,CG11,{INSIDE},夜间施工,P2,patrol,1,open,,,,0
"""
runner = CliRunner()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo town with this week's history instead of the demo's year."""
    town = tmp_path_factory.mktemp("town")
    for source in DEMO_DIR.iterdir():
        if source.name != "reports.csv":
            shutil.copy(source, town / source.name)
    (town / "reports.csv").write_text(HISTORY, encoding="utf-8")
    url = f"sqlite:///{town / 'g.db'}"
    upgrade(url)
    # the history as written: today is the day after its last report, so nothing moves
    load_demo(make_engine(url), town, history=True, say=lambda _: None, today=date(2025, 6, 21))
    return url


def report(database: str, monkeypatch: pytest.MonkeyPatch, *args: object) -> Result:
    monkeypatch.setenv("GRIDSVC_DATABASE_URL", database)
    return runner.invoke(app, ["report", "evaluation", *WEEK, *[str(a) for a in args]])


def test_csv_by_category(database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    out = tmp_path / "考核.csv"
    result = report(database, monkeypatch, "--by", "category", "--min-cases", "1", "--out", out)
    assert result.exit_code == 0, result.output
    assert str(out) in " ".join(result.stdout.split())
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    by_code = {r["代码"]: r for r in rows}
    cg01, cg11, total = by_code["CG01"], by_code["CG11"], by_code[""]
    assert (cg01["名称"], cg01["上报数"], cg01["应结案数"], cg01["按期结案数"]) == (
        "乱设摊",
        "2",
        "2",
        "1",
    )
    assert float(cg01["按期结案率"]) == 0.5
    assert (cg01["返工数"], float(cg01["返工率"])) == ("1", 0.5)  # the imported reopen count
    # on working hours the town case was on time; the Friday case is not yet due
    assert (cg11["名称"], cg11["上报数"], cg11["应结案数"], cg11["按期结案数"]) == (
        "工地夜间施工",
        "2",
        "1",
        "1",
    )
    assert [r["排名"] for r in rows] == ["1", "2", ""]  # CG11 first, the total unranked
    assert (total["名称"], total["应结案数"], total["按期结案数"]) == ("合计", "3", "2")


def test_xlsx_in_english_by_grid(
    database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "evaluation.xlsx"
    result = report(database, monkeypatch, "--by", "grid", "--lang", "en", "--out", out)
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out)["Evaluation"]
    header, grid, total = ([c.value for c in row] for row in sheet.iter_rows())
    row = dict(zip(header, grid, strict=True))
    assert (row["Code"], row["Name"]) == ("310106113G01", "Responsibility Grid 1")
    assert (row["Reported"], row["Due"], row["Closed"], row["Closed on time"]) == (4, 3, 3, 2)
    assert row["On-time closure rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert row["Rank"] is None  # three due cases, fewer than the default ten
    assert dict(zip(header, total, strict=True))["Name"] == "Total"


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--out", "x.txt"], "请写入 .csv 或 .xlsx 文件"),
        (["--by", "street", "--out", "x.csv"], "'street' 不是 --by 可用的分组"),
        (["--by", "grid", "--line-score", "D01=90", "--out", "x.csv"], "请配合 --by department"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(
    database: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    args: list[str],
    mentions: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    result = report(database, monkeypatch, *args)
    assert result.exit_code == 2
    said = result.stderr.strip()  # in Chinese by default, the message too, naming the flag
    assert said.startswith("错误（") and "error:" not in said and mentions in said
    assert "Traceback" not in result.output
    assert not any(tmp_path.iterdir())  # nothing written


def test_without_dates_the_report_is_of_the_last_full_month(
    database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Finding (issue 19, 8): --from/--to were demanded; the dashboard and API default to it."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    last = today.replace(day=1) - timedelta(days=1)
    monkeypatch.setenv("GRIDSVC_DATABASE_URL", database)
    out = tmp_path / "last-month.csv"
    result = runner.invoke(app, ["report", "evaluation", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"（{last.replace(day=1)} 至 {last}）" in " ".join(result.stdout.split())
    assert out.exists()
    half = runner.invoke(app, ["report", "evaluation", "--out", str(out), "--from", "2025-06-16"])
    assert half.exit_code == 2 and "--to" in half.stderr
