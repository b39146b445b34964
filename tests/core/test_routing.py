"""The responsibility list read from the demo CSV, its checks, and routing by level."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gridsvc.core.errors import InvalidInput, UnknownCategory
from gridsvc.core.routing import Level, Matter, ResponsibilityList, Routing, StepLimits, route

DEMO = Path(__file__).parents[2] / "data" / "demo" / "responsibility_list.csv"


def _demo_rows() -> list[dict[str, str]]:
    with DEMO.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def demo() -> ResponsibilityList:
    return ResponsibilityList.from_records(_demo_rows())


def test_demo_list_reads_every_matter(demo: ResponsibilityList) -> None:
    assert len(demo) == 40
    assert [m.code for m in demo][:3] == ["CG01", "CG02", "CG03"]
    assert "CG40" in demo and "CG41" not in demo
    assert len({m.field for m in demo}) == 10


def test_demo_row_is_parsed(demo: ResponsibilityList) -> None:
    assert demo.get("CG28") == Matter(
        code="CG28",
        name="河道污染",
        name_en="River pollution",
        field="水务",
        field_en="water affairs",
        primary_department="D12",
        cooperating_departments=("X02", "X01"),
        level=Level.TOWN,
        group="WG02",
        default_severity=2,
        allow_outside=True,
        limits=StepLimits(dispatch_h=0.5, accept_h=1.0, handle_h=48.0, verify_h=24.0),
    )


@pytest.mark.parametrize(
    ("code", "team", "expected"),
    [
        # small loop: the grid's team handles, the primary department supports
        ("CG01", "WS01", Routing(Level.GRID, "WS01", "D01", ("D05", "D10"), "WG02")),
        ("CG26", "WS04", Routing(Level.GRID, "WS04", "D12", ("X02", "D04"), "WG02")),
        # a grid matter with no team (report just outside the town): big loop
        ("CG33", None, Routing(Level.TOWN, None, "D01", ("X01", "D03"), "WG02")),
        # big loop: the town department in its working group; the team is not involved
        ("CG08", "WS02", Routing(Level.TOWN, None, "D08", ("D02", "D14"), "WG05")),
        ("CG16", None, Routing(Level.TOWN, None, "D07", ("D03", "D05", "D02"), "WG04")),
        # 乡呼县应: escalated to the county bureau
        ("CG14", "WS03", Routing(Level.COUNTY, None, "X06", ("D05", "D02"), "WG03")),
        ("CG30", None, Routing(Level.COUNTY, None, "X02", ("X01", "D01"), "WG02")),
    ],
)
def test_route_by_level(
    demo: ResponsibilityList, code: str, team: str | None, expected: Routing
) -> None:
    assert route(demo.get(code), team) == expected


def test_every_demo_matter_routes(demo: ResponsibilityList) -> None:
    for matter in demo:
        routing = route(matter, "WS01")
        assert routing.level is matter.level
        assert routing.department == matter.primary_department
        assert (routing.team is not None) == (matter.level is Level.GRID)


def test_unknown_category_names_the_code_and_the_valid_ones(demo: ResponsibilityList) -> None:
    with pytest.raises(UnknownCategory) as info:
        demo.get("CG99")
    message = info.value.message
    assert "'CG99'" in message
    assert "CG01, CG02" in message and "CG10" in message and "CG11" not in message
    assert "30 more (40 in all)" in message


def test_unknown_category_in_a_short_list() -> None:
    short = ResponsibilityList.from_records(_demo_rows()[:3])
    with pytest.raises(UnknownCategory, match=r"'X'; valid codes: CG01, CG02, CG03$"):
        short.get("X")
    with pytest.raises(UnknownCategory, match="empty"):
        ResponsibilityList([]).get("CG01")


def test_duplicate_codes_are_refused() -> None:
    rows = _demo_rows()
    with pytest.raises(InvalidInput, match="duplicate matter code 'CG01'"):
        ResponsibilityList.from_records([rows[0], rows[1], rows[0]])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("level", "village"),
        ("default_severity", "4"),
        ("default_severity", "0"),
        ("default_severity", "high"),
        ("allow_outside", "yes"),
        ("limit_dispatch_h", "0"),
        ("limit_accept_h", "-1"),
        ("limit_handle_h", "soon"),
        ("limit_verify_h", "nan"),
        ("limit_verify_h", "inf"),
        ("primary_department", " "),
        ("name", ""),
    ],
)
def test_bad_row_names_the_matter_and_the_field(field: str, value: str) -> None:
    rows = _demo_rows()
    rows[5] = {**rows[5], field: value}
    with pytest.raises(InvalidInput) as info:
        ResponsibilityList.from_records(rows)
    assert "CG06" in info.value.message and field in info.value.message
    assert info.value.extra == {"matter": "CG06", "field": field}


def test_missing_column_is_named() -> None:
    row = {k: v for k, v in _demo_rows()[0].items() if k != "limit_handle_h"}
    with pytest.raises(InvalidInput, match="CG01.*'limit_handle_h' is missing"):
        ResponsibilityList.from_records([row])


def test_row_without_code_is_named_by_number() -> None:
    rows = _demo_rows()[:2]
    rows[1] = {**rows[1], "code": ""}
    with pytest.raises(InvalidInput, match="row 2: code"):
        ResponsibilityList.from_records(rows)


def test_empty_group_and_cooperating_become_none_and_empty() -> None:
    row = {**_demo_rows()[0], "group": "", "cooperating_departments": ""}
    matter = ResponsibilityList.from_records([row]).get("CG01")
    assert matter.group is None
    assert matter.cooperating_departments == ()


# ---- a district's list: defaults and the towns' overrides ----------------------------------


def _override(code: str, town: str, **changes: str) -> dict[str, str]:
    row = next(r for r in _demo_rows() if r["code"] == code)
    return {**row, "town": town, **changes}


def test_a_town_overrides_a_matter_for_its_own_cases() -> None:
    rows = [*_demo_rows(), _override("CG01", "T2", primary_department="D05", limit_dispatch_h="4")]
    district = ResponsibilityList.from_records(rows)
    assert len(district) == len(_demo_rows())  # the categories offered do not change
    assert district.towns == ["T2"]
    default, t2 = district.get("CG01"), district.for_town("T2").get("CG01")
    assert (t2.primary_department, t2.limits.dispatch_h) == ("D05", 4.0)
    assert default.primary_department != "D05"
    assert district.for_town("T1").get("CG01") == default  # no override: the default
    assert district.for_town(None) is district
    assert district.for_town("T2").get("CG02") == district.get("CG02")
    assert {m.code for m in district.every_matter()} == {m.code for m in district}
    assert sum(1 for _ in district.every_matter()) == len(district) + 1


def test_an_override_of_a_matter_the_district_lacks_is_refused() -> None:
    rows = [*_demo_rows(), {**_override("CG01", "T2"), "code": "ZZ99"}]
    with pytest.raises(InvalidInput, match="overrides matter 'ZZ99'"):
        ResponsibilityList.from_records(rows)


def test_a_town_overriding_a_matter_twice_is_refused() -> None:
    rows = [*_demo_rows(), _override("CG01", "T2"), _override("CG01", "T2")]
    with pytest.raises(InvalidInput, match="overrides matter 'CG01' twice"):
        ResponsibilityList.from_records(rows)
