"""Photos of a case: checked by content, stored once by their SHA-256, recorded in the history.

The file is written (atomically, by rename) before the database row, so a
row never points at a missing file; a crash in between leaves only an
unreferenced file named by its hash, which the next upload of the same photo
reuses.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from gridsvc.core.errors import InvalidInput, NotFound
from gridsvc.services.cases import Principal, check_department
from gridsvc.store import cases as store
from gridsvc.store import schema as s

HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1")


def sniff(data: bytes) -> str | None:
    """The image type by its first bytes (JPEG, PNG, HEIC), whatever the client claims."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "image/heic"
    return None


def path_for(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256


def add_photo(
    engine: Engine, root: Path, case_id: int, data: bytes, filename: str, who: Principal
) -> dict[str, Any]:
    """Store a photo for a case and append an ``attach`` event.

    Everything that can refuse the photo (its content, the case, a handler of
    another department) is checked before the file is written.
    """
    kind = sniff(data)
    if kind is None:
        raise InvalidInput(
            f"{filename or 'the upload'} is not a JPEG, PNG or HEIC image (checked by content)"
        )
    digest = hashlib.sha256(data).hexdigest()
    with engine.connect() as conn:
        found = store.get_case(conn, case_id)
    if found is None:
        raise NotFound(f"no case with id {case_id}")
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


def get_photo(engine: Engine, root: Path, case_id: int, attachment_id: int) -> tuple[Path, str]:
    with engine.connect() as conn:
        row = conn.execute(
            select(s.attachments).where(
                s.attachments.c.id == attachment_id, s.attachments.c.case_id == case_id
            )
        ).first()
    if row is None:
        raise NotFound(f"case {case_id} has no attachment {attachment_id}")
    return path_for(root, row.sha256), row.content_type
