"""The working calendar: the State Council's holidays and 调休 working weekends, the
working hours the step durations count in, and the year the history covers."""

from __future__ import annotations

import numpy as np
import pandas as pd

START = pd.Timestamp("2025-11-01 00:00:00")
N_DAYS = 365  # 2025-11-01 .. 2026-10-31
CUTOFF_S = N_DAYS * 86400  # data extracted at 2026-11-01 00:00 (+08:00)

# the State Council holiday schedules (放假 and 调休 working weekends) for 2025 and 2026.
# 2027 is not the State Council's schedule (not known when this was written): it lists only
# the statutory days of 《全国年节及纪念日放假办法》 (as revised in 2024) on their 2027 dates
# (New Year 1 day; Spring Festival eve and days 1-3, 春节 2027-02-06; Qingming on the solar
# term; Labour Day 2 days; Dragon Boat 端午 and Mid-Autumn 中秋 on their lunar dates; National
# Day 3 days), without the bridging days and 调休 working weekends. Replace it when the
# schedule is published (usually in November of the year before).
HOLIDAYS_TABLE = """
2025-01-01 元旦 0
2025-01-26 春节 1
2025-01-28 春节 0
2025-01-29 春节 0
2025-01-30 春节 0
2025-01-31 春节 0
2025-02-01 春节 0
2025-02-02 春节 0
2025-02-03 春节 0
2025-02-04 春节 0
2025-02-08 春节 1
2025-04-04 清明节 0
2025-04-05 清明节 0
2025-04-06 清明节 0
2025-04-27 劳动节 1
2025-05-01 劳动节 0
2025-05-02 劳动节 0
2025-05-03 劳动节 0
2025-05-04 劳动节 0
2025-05-05 劳动节 0
2025-05-31 端午节 0
2025-06-01 端午节 0
2025-06-02 端午节 0
2025-09-28 国庆节、中秋节 1
2025-10-01 国庆节、中秋节 0
2025-10-02 国庆节、中秋节 0
2025-10-03 国庆节、中秋节 0
2025-10-04 国庆节、中秋节 0
2025-10-05 国庆节、中秋节 0
2025-10-06 国庆节、中秋节 0
2025-10-07 国庆节、中秋节 0
2025-10-08 国庆节、中秋节 0
2025-10-11 国庆节、中秋节 1
2026-01-01 元旦 0
2026-01-02 元旦 0
2026-01-03 元旦 0
2026-01-04 元旦 1
2026-02-14 春节 1
2026-02-15 春节 0
2026-02-16 春节 0
2026-02-17 春节 0
2026-02-18 春节 0
2026-02-19 春节 0
2026-02-20 春节 0
2026-02-21 春节 0
2026-02-22 春节 0
2026-02-23 春节 0
2026-02-28 春节 1
2026-04-04 清明节 0
2026-04-05 清明节 0
2026-04-06 清明节 0
2026-05-01 劳动节 0
2026-05-02 劳动节 0
2026-05-03 劳动节 0
2026-05-04 劳动节 0
2026-05-05 劳动节 0
2026-05-09 劳动节 1
2026-06-19 端午节 0
2026-06-20 端午节 0
2026-06-21 端午节 0
2026-09-20 国庆节 1
2026-09-25 中秋节 0
2026-09-26 中秋节 0
2026-09-27 中秋节 0
2026-10-01 国庆节 0
2026-10-02 国庆节 0
2026-10-03 国庆节 0
2026-10-04 国庆节 0
2026-10-05 国庆节 0
2026-10-06 国庆节 0
2026-10-07 国庆节 0
2026-10-10 国庆节 1
2027-01-01 元旦 0
2027-02-05 春节 0
2027-02-06 春节 0
2027-02-07 春节 0
2027-02-08 春节 0
2027-04-05 清明节 0
2027-05-01 劳动节 0
2027-05-02 劳动节 0
2027-06-09 端午节 0
2027-09-15 中秋节 0
2027-10-01 国庆节 0
2027-10-02 国庆节 0
2027-10-03 国庆节 0
"""
HOLIDAYS = [
    (d, n, int(w)) for d, n, w in (ln.split() for ln in HOLIDAYS_TABLE.strip().splitlines())
]

# working hours assumed for the step durations in reports.csv
WORK_PERIODS_MIN = [(9 * 60, 12 * 60), (13 * 60, 18 * 60)]


def calendar_days() -> pd.DataFrame:
    """Every day from the start, long enough for the last deadlines, and whether it is worked."""
    days = pd.DataFrame({"date": pd.date_range(START, periods=N_DAYS + 400, freq="D")})
    hol = {pd.Timestamp(d): w for d, _, w in HOLIDAYS}
    wd = days["date"].dt.day_of_week.to_numpy()
    is_work = np.array([hol.get(d, int(w < 5)) == 1 for d, w in zip(days["date"], wd, strict=True)])
    days["workday"] = is_work
    days["month"] = days["date"].dt.month
    return days


def holidays_table() -> pd.DataFrame:
    """holidays.csv: one row a day that is off, or a weekend worked (调休)."""
    holidays = pd.DataFrame(sorted(HOLIDAYS), columns=["date", "name", "is_workday"])
    assert holidays["date"].is_unique
    return holidays
