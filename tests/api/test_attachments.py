"""Photos of a case through HTTP: checked by content, stored once by SHA-256, traced.

A patrol's phone sends whatever the camera wrote, under whatever name; the
service decides by the bytes. Every refusal (not an image, too large, no such
case, a handler of another department, a role that may not) is a precise
problem answer that leaves no row, no event and no file behind.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest_cases import Desk, assert_problem, desk, desk_fixtures, picture
from sqlalchemy import text

from gridsvc.api.app import create_app
from gridsvc.config import Settings

#: The first bytes of an HEIC file as iPhones write it: an ISO-BMFF ``ftyp`` box, brand heic.
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)


app, d = desk_fixtures("attachments")


def upload(d: Desk, case_id: int, data: bytes, name: str, who: str | None = "patrol"):  # type: ignore[no-untyped-def]
    return d.client.post(
        f"/api/v1/cases/{case_id}/attachments",
        headers=d.headers(who),
        files={"file": (name, data, "application/octet-stream")},
    )


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def attachment_rows(d: Desk) -> int:
    with d.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM attachments")).scalar_one())


def snapshot(d: Desk) -> tuple[object, ...]:
    """What a refused upload must leave as it was: rows, events and files."""
    return (*d.counts(), attachment_rows(d), stored_files(d.app.state.settings.attachments_dir))


def test_a_photo_is_stored_once_by_its_hash_traced_and_read_back(d: Desk) -> None:
    case = d.new_case()
    data = picture("PNG")
    digest = hashlib.sha256(data).hexdigest()

    first = upload(d, case["id"], data, "现场.png")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["sha256"] == digest and body["content_type"] == "image/png"
    assert body["size"] == len(data) and body["case_id"] == case["id"]
    on_disk = d.app.state.settings.attachments_dir / digest[:2] / digest
    assert on_disk.read_bytes() == data  # outside the database, named by its hash

    again = upload(d, case["id"], data, "again.png")
    assert again.status_code == 201 and again.json()["id"] != body["id"]
    assert stored_files(d.app.state.settings.attachments_dir).count(on_disk) == 1

    history = d.get(case["id"]).json()["history"]
    attached = [e for e in history if e["action"] == "attach"]
    assert [e["actor"] for e in attached] == ["patrol", "patrol"]
    assert attached[0]["note"] == "现场.png"
    assert d.get(case["id"]).json()["status"] == "reported"  # a photo is no step of the loop

    read = d.client.get(
        f"/api/v1/cases/{case['id']}/attachments/{body['id']}", headers=d.headers("dispatcher")
    )
    assert read.status_code == 200 and read.content == data
    assert read.headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (picture("JPEG"), "photo.png", "image/jpeg"),  # the name says PNG, the bytes JPEG
        (picture("PNG"), "IMG_0001", "image/png"),
        (HEIC, "IMG_0002.HEIC", "image/heic"),
    ],
)
def test_the_type_comes_from_the_bytes_not_the_name(
    d: Desk, data: bytes, name: str, kind: str
) -> None:
    case = d.new_case()
    response = upload(d, case["id"], data, name)
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == kind


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a\x01\x00\x01\x00",  # an image, but not one the service keeps
        b"%PDF-1.7\n",
        b"<html><script>alert(1)</script></html>",
        b"",
        picture("PNG")[1:],  # a PNG that lost its first byte on the way
    ],
    ids=["gif", "pdf", "html", "empty", "truncated-png"],
)
def test_what_is_not_a_jpeg_png_or_heic_is_422_and_nothing_is_written(d: Desk, data: bytes) -> None:
    case = d.new_case()
    before = snapshot(d)
    response = upload(d, case["id"], data, "photo.jpg")
    body = assert_problem(response, 422, "invalid-input")
    assert "photo.jpg" in body["detail"] and "JPEG, PNG or HEIC" in body["detail"]
    assert snapshot(d) == before


def test_a_photo_for_no_such_case_is_404_and_no_file_is_left(d: Desk) -> None:
    before = snapshot(d)
    assert_problem(upload(d, 987_654, picture("PNG", (1, 2, 3)), "x.png"), 404, "not-found")
    assert snapshot(d) == before


def test_a_photo_of_another_case_is_not_found_under_this_one(d: Desk) -> None:
    one, other = d.new_case(), d.new_case()
    added = upload(d, one["id"], picture("PNG", (9, 9, 9)), "a.png").json()
    response = d.client.get(
        f"/api/v1/cases/{other['id']}/attachments/{added['id']}", headers=d.headers("dispatcher")
    )
    assert_problem(response, 404, "not-found")


def test_a_handler_adds_photos_to_their_departments_cases_only(d: Desk) -> None:
    case = d.new_case("CG01")  # routed to D01
    assert upload(d, case["id"], picture("JPEG"), "done.jpg", "handler-D01").status_code == 201
    before = snapshot(d)
    refused = upload(d, case["id"], picture("JPEG", (0, 90, 0)), "x.jpg", "handler-D02")
    body = assert_problem(refused, 403, "forbidden")
    assert "D02" in body["detail"]
    assert snapshot(d) == before


@pytest.mark.parametrize(("who", "status"), [("leader", 403), ("planner", 403), (None, 401)])
def test_roles_that_may_not_add_photos_write_nothing(d: Desk, who: str | None, status: int) -> None:
    case = d.new_case()
    before = snapshot(d)
    response = upload(d, case["id"], picture("PNG", (5, 5, 200)), "x.png", who)
    assert_problem(response, status, {401: "unauthenticated", 403: "forbidden"}[status])
    assert snapshot(d) == before


def test_a_photo_over_the_limit_is_413_and_nothing_is_written(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'g.db'}",
        attachments_dir=tmp_path / "attachments",
        max_attachment_bytes=2_000,
    )
    for small in desk(create_app(settings)):
        case = small.new_case()
        big = picture("PNG") + bytes(3_000)  # a PNG by its first bytes, too long
        before = snapshot(small)
        body = assert_problem(upload(small, case["id"], big, "big.png"), 413, "payload-too-large")
        assert "2,000" in body["detail"]
        assert snapshot(small) == before
        assert upload(small, case["id"], picture("PNG"), "ok.png").status_code == 201
