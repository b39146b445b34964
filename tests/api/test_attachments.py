"""Photos of a case through HTTP: decoded to be accepted, stored once by SHA-256, traced.

A patrol's phone sends whatever the camera wrote, under whatever name; the
service decodes the bytes with Pillow and keeps only what decodes whole. Every
refusal (not an image, a damaged one, too large, no such case, a handler of
another department, a role that may not) is a precise problem answer that
leaves no row, no event and no file behind. The images are real ones, made by
Pillow (and pillow-heif) in the test.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pillow_heif
import pytest
from conftest_cases import Desk, assert_problem, desk, desk_fixtures, picture
from PIL import Image
from sqlalchemy import text

from gridsvc.api.app import create_app
from gridsvc.config import Settings

pillow_heif.register_heif_opener()


def image(kind: str, size: tuple[int, int] = (16, 12), mode: str = "RGB", **save: object) -> bytes:
    """A real image of ``kind`` (a Pillow format name), written by Pillow."""
    buffer = io.BytesIO()
    Image.new(mode, size, 128 if mode == "1" else (10, 120, 200)).save(buffer, format=kind, **save)
    return buffer.getvalue()


def zipped() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return buffer.getvalue()


HEIC = image("HEIF")


def gps_jpeg() -> bytes:
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (31.0, 19.0, 48.0), 3: "E", 4: (121.0, 27.0, 0.0)})
    return image("JPEG", (32, 24), exif=exif)


def gps_of(data: bytes) -> dict[int, object]:
    return dict(Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825))


app, d = desk_fixtures("attachments", both_backends=True)


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
        (image("WEBP"), "IMG_0003.webp", "image/webp"),
        (gps_jpeg(), "gps.jpg", "image/jpeg"),
    ],
    ids=["jpeg-named-png", "png-no-extension", "heic", "webp", "jpeg-with-gps"],
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
        b"\xff\xd8\xff",  # the 3-byte "JPEG" the first-bytes check stored
        b"\xff\xd8\xff<html><script>alert(document.cookie)</script></html>",
        image("GIF"),  # an image, but not one the service keeps
        b"%PDF-1.7\n",
        b"<html><script>alert(1)</script></html>",
        b"",
        picture("PNG")[1:],  # a PNG that lost its first byte on the way
        zipped(),  # a zip named photo.jpg
        b"\x89PNG\r\n\x1a\n" + zipped(),  # a zip behind PNG's signature
    ],
    ids=[
        "3-byte-jpeg",
        "jpeg-magic-html",
        "gif",
        "pdf",
        "html",
        "empty",
        "headless-png",
        "zip",
        "png-magic-zip",
    ],
)
def test_what_is_not_a_jpeg_png_webp_or_heic_is_415_and_nothing_is_written(
    d: Desk, data: bytes
) -> None:
    case = d.new_case()
    before = snapshot(d)
    response = upload(d, case["id"], data, "photo.jpg")
    body = assert_problem(response, 415, "unsupported-media-type")
    assert "photo.jpg" in body["detail"] and "JPEG, PNG, WebP or HEIC" in body["detail"]
    assert snapshot(d) == before


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (picture("JPEG")[:-200], "damaged"),  # cut off on a bad connection
        (picture("PNG")[:-20], "damaged PNG"),
        (picture("PNG") + zipped(), "after the end of its PNG"),  # a PNG that is really a zip
        (image("PNG", (9000, 9000), mode="1"), "at most 50,000,000"),  # a decompression bomb
    ],
    ids=["truncated-jpeg", "truncated-png", "png-then-zip", "81-megapixels"],
)
def test_a_damaged_or_oversized_image_is_422_naming_what_is_wrong(
    d: Desk, data: bytes, said: str
) -> None:
    case = d.new_case()
    before = snapshot(d)
    body = assert_problem(upload(d, case["id"], data, "现场.png"), 422, "invalid-input")
    assert said in body["detail"] and "现场.png" in body["detail"]
    assert snapshot(d) == before


def test_a_photo_is_served_as_its_checked_type_with_nosniff_and_a_safe_name(d: Desk) -> None:
    case = d.new_case()
    added = upload(d, case["id"], picture("JPEG"), '../../x"; evil.html').json()
    read = d.client.get(
        f"/api/v1/cases/{case['id']}/attachments/{added['id']}", headers=d.headers("dispatcher")
    )
    assert read.status_code == 200 and read.headers["content-type"] == "image/jpeg"
    assert read.headers["x-content-type-options"] == "nosniff"
    disposition = read.headers["content-disposition"]
    assert disposition.startswith('inline; filename="x_22_ evil.jpg"; filename*=UTF-8')
    assert ".." not in disposition and "/" not in disposition and "html" not in disposition
    chinese = upload(d, case["id"], picture("PNG"), "现场 1.png").json()
    read = d.client.get(
        f"/api/v1/cases/{case['id']}/attachments/{chinese['id']}", headers=d.headers("dispatcher")
    )
    assert read.headers["content-disposition"] == (
        "inline; filename=\"__ 1.png\"; filename*=UTF-8''%E7%8E%B0%E5%9C%BA%201.png"
    )


def test_a_photos_gps_is_kept_as_sent_by_default(d: Desk) -> None:
    data = gps_jpeg()
    assert gps_of(data)  # the test image does carry a location
    body = upload(d, d.new_case()["id"], data, "gps.jpg").json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()  # stored byte for byte


def test_with_strip_gps_the_photo_is_stored_without_its_location(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'g.db'}",
        attachments_dir=tmp_path / "attachments",
        attachment_strip_gps=True,
    )
    for strip in desk(create_app(settings)):
        body = upload(strip, strip.new_case()["id"], gps_jpeg(), "gps.jpg").json()
        stored = (settings.attachments_dir / body["sha256"][:2] / body["sha256"]).read_bytes()
        assert gps_of(stored) == {} and body["content_type"] == "image/jpeg"
        assert Image.open(io.BytesIO(stored)).size == (32, 24)


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
