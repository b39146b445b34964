"""The organisation: working groups (一办六组), departments (the town's "1+5+N" and the
district's bureaus) and the street workstations (teams) that patrol the grids."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .roads import pinyin_of_stem

# 一办六组 (Zhujing): six working groups, each with a lead department
GROUPS = [
    ("WG01", "经济发展组", "Economic Development Group", "D16"),
    ("WG02", "公共管理组", "Public Management Group", "D12"),
    ("WG03", "公共服务组", "Public Services Group", "D17"),
    ("WG04", "公共安全组", "Public Safety Group", "D13"),
    ("WG05", "社区工作组", "Community Work Group", "D14"),
    ("WG06", "党建工作组", "Party-building Group", "D18"),
]

# code, name, name_en, kind, level, group
DEPARTMENTS = [
    (
        "D01",
        "综合行政执法队",
        "Comprehensive Administrative Law Enforcement Squad",
        "enforcement",
        "town",
        "WG02",
    ),
    ("D02", "示范派出所", "Shifan Police Station", "stationed", "town", "WG04"),
    ("D03", "示范消防救援站", "Shifan Fire and Rescue Station", "stationed", "town", "WG04"),
    ("D04", "交警示范中队", "Shifan Traffic Police Squadron", "stationed", "town", "WG04"),
    ("D05", "示范市场监管所", "Shifan Market Supervision Office", "stationed", "town", "WG01"),
    ("D06", "示范司法所", "Shifan Justice Office", "stationed", "town", "WG04"),
    ("D07", "应急管理联络组", "Emergency Management Liaison (on call)", "on_call", "town", "WG04"),
    ("D08", "住建联络组", "Housing and Construction Liaison (on call)", "on_call", "town", "WG05"),
    ("D09", "自然资源联络组", "Natural Resources Liaison (on call)", "on_call", "town", "WG01"),
    (
        "D10",
        "绿化市容联络组",
        "Landscaping and City Appearance Liaison (on call)",
        "on_call",
        "town",
        "WG02",
    ),
    ("D11", "文旅联络组", "Culture and Tourism Liaison (on call)", "on_call", "town", "WG03"),
    ("D12", "城市管理办公室", "City Management Office", "town_office", "town", "WG02"),
    ("D13", "平安建设办公室", "Public Safety Office", "town_office", "town", "WG04"),
    ("D14", "社区管理办公室", "Community Management Office", "town_office", "town", "WG05"),
    ("D15", "党政办公室", "Party and Government Office", "town_office", "town", ""),
    ("D16", "经济发展办公室", "Economic Development Office", "town_office", "town", "WG01"),
    ("D17", "社会事务办公室", "Social Affairs Office", "town_office", "town", "WG03"),
    ("D18", "党建工作办公室", "Party-building Office", "town_office", "town", "WG06"),
    ("D19", "网格化综合管理中心", "Grid Management Centre", "town_office", "town", ""),
    ("X01", "区生态环境局", "District Ecology and Environment Bureau", "county", "county", ""),
    ("X02", "区水务局", "District Water Affairs Bureau", "county", "county", ""),
    ("X03", "区住建委", "District Housing and Construction Commission", "county", "county", ""),
    ("X04", "区城管执法局", "District Urban Management Enforcement Bureau", "county", "county", ""),
    ("X05", "区市场监管局", "District Market Supervision Bureau", "county", "county", ""),
    ("X06", "区卫健委", "District Health Commission", "county", "county", ""),
    (
        "X07",
        "区规划资源局",
        "District Planning and Natural Resources Bureau",
        "county",
        "county",
        "",
    ),
    ("X08", "区建管委", "District Construction and Transport Commission", "county", "county", ""),
    ("X09", "区应急管理局", "District Emergency Management Bureau", "county", "county", ""),
    ("X10", "区文旅局", "District Culture and Tourism Bureau", "county", "county", ""),
    (
        "X11",
        "区绿化市容局",
        "District Landscaping and City Appearance Bureau",
        "county",
        "county",
        "",
    ),
    ("X12", "区公安分局", "District Public Security Sub-bureau", "county", "county", ""),
]

STAFFING = [
    "5+1+X: 城管执法队员5名, 社区民警1名, 市容协管员{a}名, 房管员{b}名, 环卫作业人员{c}名",
]


def teams_table(L: dict, roads: list[dict], rng: np.random.Generator) -> pd.DataFrame:
    """teams.csv: one street workstation per 2-3 contiguous grids of a unit."""
    return pd.DataFrame(
        {
            "code": L["team_code"],
            "name": [f"{n}街区工作站" for n in L["team_names"]],
            "name_en": [f"{pinyin_of_stem(n, roads)} Street Workstation" for n in L["team_names"]],
            "grids": [";".join(L["grid_code"][g] for g in gs) for gs in L["team_grids"]],
            "staffing": [
                STAFFING[0].format(
                    a=2 + len(gs), b=1 + (len(gs) > 2), c=3 * len(gs) + int(rng.integers(0, 3))
                )
                for gs in L["team_grids"]
            ],
        }
    )


def organisation_tables() -> dict[str, pd.DataFrame]:
    """departments.csv and groups.csv, checked against each other."""
    departments = pd.DataFrame(
        DEPARTMENTS, columns=["code", "name", "name_en", "kind", "level", "group"]
    )
    groups = pd.DataFrame(GROUPS, columns=["code", "name", "name_en", "lead_department"])
    assert set(groups["lead_department"]) <= set(departments["code"])
    assert set(departments["group"]) - {""} <= set(groups["code"])
    return {"departments": departments, "groups": groups}
