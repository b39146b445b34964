"""The responsibility list (属地管理清单) as versions: upload a draft, compare, publish.

A new list changes who handles what and how fast, so it goes the way a
redrawn grid does: uploaded as a draft (checked row by row and against the
departments and working groups the town has), compared with the published
list, then published with If-Match on both versions. Cases reported after
that are routed by the new list and record its version; earlier cases keep
the version they were routed under.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from gridsvc.core.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, StaleVersion
from gridsvc.core.messages import Msg
from gridsvc.core.routing import ResponsibilityList, row_key
from gridsvc.services.keys import town_names
from gridsvc.store import matter_lists, reference

MAX_LIST_BYTES = 2 * 1024 * 1024  # a list of a few hundred matters is tens of kilobytes


def read_list_csv(data: bytes) -> list[dict[str, str]]:
    """The rows of a list CSV (UTF-8, with or without BOM, or GBK as Excel saves it in China)."""
    if len(data) > MAX_LIST_BYTES:
        raise PayloadTooLarge(Msg("list.too_large", kb=MAX_LIST_BYTES // 1024))
    for encoding in ("utf-8-sig", "gbk"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput(Msg("list.encoding"))
    reader = csv.DictReader(io.StringIO(text, newline=""))  # quoted fields keep their newlines
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InvalidInput(Msg("list.bad_csv", line=reader.line_num, reason=str(exc))) from None
    if not rows:
        raise InvalidInput(Msg("list.no_rows"))
    return [{k.strip(): (v or "").strip() for k, v in r.items() if k} for r in rows]


class ResponsibilityLists:
    """Versions of the list over the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def history(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return matter_lists.history(conn)

    def add_draft(self, rows: list[dict[str, str]], label: str) -> dict[str, Any]:
        """Check every row, then store the list as a draft and say what it changes."""
        parsed = ResponsibilityList.from_records(rows)  # InvalidInput names the row and field
        with self.engine.begin() as conn:
            self._check_references(conn, parsed)
            draft_id = matter_lists.add_version(conn, rows, label, datetime.now(UTC), "draft")
        return {"id": draft_id, "label": label, "matters": len(parsed), **self.changes(draft_id)}

    def changes(self, draft_id: int) -> dict[str, Any]:
        """Matters added, removed and changed (with the fields that differ) against the active list."""
        with self.engine.connect() as conn:
            self._version(conn, draft_id)
            new = {row_key(r): r for r in matter_lists.records(conn, draft_id)}
            active = matter_lists.active_version(conn)
            old = {row_key(r): r for r in matter_lists.records(conn, active)} if active else {}
        changed = [
            {"code": code, "fields": sorted(k for k in set(old[code]) | set(new[code])
                                            if old[code].get(k) != new[code].get(k))}
            for code in sorted(set(old) & set(new))
            if old[code] != new[code]
        ]  # fmt: skip
        return {
            "active": active,
            "added": sorted(set(new) - set(old)),
            "removed": sorted(set(old) - set(new)),
            "changed": changed,
        }

    def publish(self, draft_id: int, draft_etag: int, active_etag: int | None) -> dict[str, Any]:
        """Make the draft the published list, if both versions are the ones previewed.

        The checks below give the precise answer; the swap in ``activate`` makes them
        hold under a concurrent publish too (the second one is a StaleVersion).
        """
        if draft_etag != draft_id:
            raise StaleVersion(Msg("list.draft_etag", draft_etag=draft_etag, draft_id=draft_id))
        try:
            with self.engine.begin() as conn:
                self._check_publishable(conn, draft_id, active_etag)
                if not matter_lists.activate(conn, draft_id, active_etag, datetime.now(UTC)):
                    raise _Overtaken
        except (_Overtaken, IntegrityError):
            raise StaleVersion(self._overtaken(draft_id, active_etag)) from None
        return {"published": draft_id, "retired": active_etag}

    def _check_publishable(self, conn: Any, draft_id: int, active_etag: int | None) -> None:
        row = self._version(conn, draft_id)
        if row["status"] != "draft":
            raise Conflict(Msg("list.not_draft", draft_id=draft_id, status=row["status"]))
        current = matter_lists.active_version(conn)
        if current != active_etag:
            raise StaleVersion(Msg("list.stale", current=current, active_etag=active_etag))

    def _overtaken(self, draft_id: int, active_etag: int | None) -> Msg:
        """What a publish that lost the race to another one is told."""
        with self.engine.connect() as conn:
            current = matter_lists.active_version(conn)
        return Msg("list.overtaken", current=current, active_etag=active_etag, draft_id=draft_id)

    def _version(self, conn: Any, version_id: int) -> dict[str, Any]:
        row = matter_lists.version(conn, version_id)
        if row is None:
            raise NotFound(Msg("list.no_version", version_id=version_id))
        return row

    def _check_references(self, conn: Any, parsed: ResponsibilityList) -> None:
        """Every department and working group named must exist in the town, and every town
        a row overrides the district's default for must be one of the district's towns."""
        departments = {r["code"] for r in reference.read_table(conn, "departments")}
        groups = {r["code"] for r in reference.read_table(conn, "working_groups")}
        towns = town_names(conn)
        unknown = [Msg("list.unknown_town", town=t) for t in parsed.towns if t not in towns]
        for matter in parsed.every_matter():
            named = [matter.primary_department, *matter.cooperating_departments]
            unknown += [
                Msg("list.unknown_department", matter=matter.code, department=d)
                for d in named
                if d not in departments
            ]
            if matter.group and matter.group not in groups:
                unknown.append(Msg("list.unknown_group", matter=matter.code, group=matter.group))
        if unknown:
            rest = len(unknown) - 10
            more = Msg("list.more_unknown", rest=rest) if rest > 0 else ""
            raise InvalidInput(Msg("list.unknown_references", shown=unknown[:10], more=more))


class _Overtaken(Exception):
    """Raised inside the publish transaction to roll it back: another publish came first."""
