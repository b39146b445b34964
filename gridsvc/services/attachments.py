"""Photos of a case: decoded to be accepted, stored once by their SHA-256, recorded in the history.

A photo is accepted only when Pillow decodes it whole as a JPEG, PNG, WebP or
(with pillow-heif installed) HEIC image no larger than ``max_pixels``: first
bytes prove nothing (a 3-byte "JPEG" or ``FFD8FF<html><script>`` passed the old
check and was served back). The stored type is the decoder's, never the
client's. The bytes are kept as sent, EXIF GPS included, since a patrol's
location in its photo is evidence; ``strip_gps`` re-encodes without it.

The file is written (atomically, by rename) before the database row, so a
row never points at a missing file; a crash in between leaves only an
unreferenced file named by its hash, which the next upload of the same photo
reuses.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import tempfile
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from PIL import Image, UnidentifiedImageError
from sqlalchemy import Engine, insert, select

from gridsvc.core.errors import InvalidInput, NotFound, UnsupportedMediaType
from gridsvc.core.messages import Msg
from gridsvc.services.reading import Principal, check_department
from gridsvc.store import cases as store
from gridsvc.store import schema as s

try:  # HEIC, as iPhones write it: optional, refused by name when the decoder is missing
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIC = True
except ImportError:  # pragma: no cover - pillow-heif is a dependency; a slim install may lack it
    HEIC = False

#: Pillow's format name -> the content type stored and served, and the file extension.
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    **({"HEIF": ("image/heic", "heic")} if HEIC else {}),
}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}
_NAMES = [n.replace("HEIF", "HEIC").replace("WEBP", "WebP") for n in FORMATS]
KINDS_TEXT = ", ".join(_NAMES[:-1]) + " or " + _NAMES[-1]  # "JPEG, PNG, WebP or HEIC"
GPS_IFD = 0x8825
#: What Pillow's decoders raise on a file that starts like an image and then is not one.
DAMAGED = (OSError, SyntaxError, ValueError, EOFError, struct.error)


@dataclass(frozen=True)
class PhotoPolicy:
    """What a photo may be: ``max_pixels`` bounds the decoded size (a decompression bomb is
    a small file that decodes to gigabytes); ``strip_gps`` re-encodes without EXIF GPS."""

    max_pixels: int = 50_000_000
    strip_gps: bool = False


@dataclass(frozen=True)
class Photo:
    """A decoded, accepted photo: the bytes to store and their checked type."""

    data: bytes
    content_type: str


def check_photo(data: bytes, filename: str, policy: PhotoPolicy) -> Photo:
    """The photo as it will be stored, or UnsupportedMediaType (not one of the kinds kept)
    or InvalidInput (damaged, too many pixels, data hidden after the image)."""
    name = filename or "the upload"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except UnidentifiedImageError as exc:
        raise UnsupportedMediaType(Msg("photo.kind", name=name, kinds=KINDS_TEXT)) from exc
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise InvalidInput(Msg("photo.bomb", name=name, reason=str(exc))) from exc
    except DAMAGED as exc:  # the signature of a kind kept, then headers that do not parse
        raise InvalidInput(Msg("photo.damaged", name=name, reason=str(exc))) from exc
    kind = image.format or ""
    width, height = image.size
    if width * height > policy.max_pixels:
        raise InvalidInput(
            Msg("photo.pixels", name=name, width=width, height=height, most=policy.max_pixels)
        )
    _decode_whole(data, kind, name)
    if kind == "PNG":
        _nothing_after_iend(data, name)
    if policy.strip_gps:
        data = _without_gps(data)
    return Photo(data, FORMATS[kind][0])


def _decode_whole(data: bytes, kind: str, name: str) -> None:
    """Decode every pixel (a truncated or forged file fails here); JPEG at 1/8 scale, which
    still reads every block but keeps the memory small."""
    shown = kind.replace("HEIF", "HEIC").replace("WEBP", "WebP")
    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as image:
            image.verify()  # PNG: every chunk's CRC
        with Image.open(io.BytesIO(data), formats=[kind]) as image:
            if kind == "JPEG":
                image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
            image.load()
    except DAMAGED as exc:
        raise InvalidInput(
            Msg("photo.damaged_kind", name=name, kind=shown, reason=str(exc))
        ) from exc


def _nothing_after_iend(data: bytes, name: str) -> None:
    """A PNG ends with its IEND chunk; bytes after it are another file (a zip, a script)
    riding along. JPEG is left alone: phones append motion-photo videos after EOI."""
    offset = 8
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        chunk = data[offset + 4 : offset + 8]
        offset += 12 + length
        if chunk == b"IEND":
            break
    extra = len(data) - offset
    if extra > 0:
        raise InvalidInput(Msg("photo.trailing", name=name, extra=extra))


def _without_gps(data: bytes) -> bytes:
    """The image re-encoded without the EXIF GPS block (JPEG with its own quantisation)."""
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        if GPS_IFD not in exif:
            return data
        del exif[GPS_IFD]
        out = io.BytesIO()
        extra: dict[str, Any] = {"quality": "keep"} if image.format == "JPEG" else {}
        image.save(out, format=image.format, exif=exif.tobytes(), **extra)
        return out.getvalue()


def safe_filename(filename: str, case_id: int, attachment_id: int, content_type: str) -> str:
    """A name for Content-Disposition: no path, no quotes or control characters, the
    extension of the checked type (a ``photo.html`` that is a JPEG is served as .jpg)."""
    stem = Path(filename.replace("\\", "/")).stem
    stem = re.sub(r'[\x00-\x1f\x7f"\\/;:*?<>|%]+', "_", stem).strip(" ._")[:80]
    return f"{stem or f'case-{case_id}-photo-{attachment_id}'}.{EXTENSIONS[content_type]}"


def content_disposition(filename: str) -> str:
    """``inline`` with an ASCII ``filename`` for old clients and the UTF-8 ``filename*``
    (RFC 6266) for the Chinese names phones and patrols give their photos."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def path_for(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256


def add_photo(
    engine: Engine,
    root: Path,
    case_id: int,
    data: bytes,
    filename: str,
    who: Principal,
    policy: PhotoPolicy | None = None,
) -> dict[str, Any]:
    """Store a photo for a case and append an ``attach`` event.

    Everything that can refuse the photo (its content, the case, a handler of
    another department) is checked before the file is written.
    """
    photo = check_photo(data, filename, policy or PhotoPolicy())
    data, kind = photo.data, photo.content_type
    digest = hashlib.sha256(data).hexdigest()
    with engine.connect() as conn:
        found = store.get_case(conn, case_id)
    if found is None:
        raise NotFound(Msg("case.no_id", case_id=case_id))
    check_department(found, who)
    _write_once(path_for(root, digest), data)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        case = store.get_case(conn, case_id)
        assert case is not None
        attachment_id = conn.execute(
            insert(s.attachments).values(
                case_id=case_id,
                sha256=digest,
                content_type=kind,
                size=len(data),
                filename=filename[:200],
                created_at=now,
            )
        ).inserted_primary_key[0]
        store.add_event(
            conn,
            case_id,
            action="attach",
            from_status=case["status"],
            to_status=case["status"],
            actor=who.name,
            role=who.role.value,
            at=now,
            note=filename[:200],
            data={"attachment_id": attachment_id, "sha256": digest},
        )
    return {
        "id": attachment_id,
        "case_id": case_id,
        "sha256": digest,
        "content_type": kind,
        "size": len(data),
        "filename": filename,
    }


def _write_once(target: Path, data: bytes) -> None:
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class StoredPhoto:
    """A stored photo as it is served: its file, checked type and a safe download name."""

    path: Path
    content_type: str
    filename: str


def get_photo(engine: Engine, root: Path, case_id: int, attachment_id: int) -> StoredPhoto:
    """The photo's file and what to serve it as (the type checked at upload, never sniffed)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(s.attachments).where(
                s.attachments.c.id == attachment_id, s.attachments.c.case_id == case_id
            )
        ).first()
    if row is None:
        raise NotFound(Msg("photo.missing", case_id=case_id, attachment_id=attachment_id))
    name = safe_filename(row.filename or "", case_id, attachment_id, row.content_type)
    return StoredPhoto(path_for(root, row.sha256), row.content_type, name)
