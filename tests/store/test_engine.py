"""JSON columns written by orjson (``store.engine.json_text``) read back as they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select, text

from gridsvc.store.engine import make_engine

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _table() -> Table:
    return Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("v", JSON))


@settings(max_examples=100, deadline=None)
@given(value=_values)
def test_any_json_value_reads_back_equal(tmp_path_factory: Any, value: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('json')}/j.db")
    table = _table()
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), {"v": value})
        assert conn.execute(select(table.c.v)).scalar_one() == value


def test_chinese_text_is_stored_as_utf8_not_escapes(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/j.db")
    table = _table()
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), {"v": {"name": "兴春居委", "cooperating": ["D02"]}})
        stored = conn.execute(text("SELECT v FROM t")).scalar_one()
    assert "兴春居委" in stored and "\\u" not in stored
