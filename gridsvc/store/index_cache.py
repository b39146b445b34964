"""The matcher's built indexes in one file per layer set, memory-mapped by every server process.

Why: building a 20,000-grid town's cell trees and street index took some 5 s of CPU
and 200 MB in every worker, at every start and after every publish. Written once,
the tables are read back with ``mmap``: the pages are the kernel's page cache,
shared by all workers of the host, loaded only where a point looks, and a restart
skips the build.

A file never gives a wrong answer. Its name and header carry a key made of what
the tables depend on: the layer versions, a digest of their geometries and codes,
the radius and cell size, and a digest of the source of the modules that build
them (a changed builder makes the old files stale). The header also holds the
SHA-256 of the payload, checked (by plain reads: the checked pages stay out of
the process's memory) each time the file is opened. Anything that does not fit
(another key, a short file, a flipped byte, an unknown format) is no file at all:
the caller builds and writes it again. Files are written to a temporary name and
renamed, so a reader sees a whole file or none, and a process that maps the old file
keeps it. They are read-only: a file that is in use must never be changed in place
(a mapped page cut off by truncation is a SIGBUS, a changed one a changed table);
delete it or let the service replace it.

Layout: ``MAGIC``, the header's length (8 bytes, little-endian), the header
(JSON), zeros up to a multiple of 64, then the arrays, each at a 64-byte offset.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from gridsvc.core.layers import Layer, LayerKind

log = logging.getLogger("gridsvc.index_cache")

MAGIC = b"GRIDSVC-INDEX\x00\x01\n"  # 16 bytes; the last but one is the format's number
_ALIGN = 64
_CHUNK = 1 << 20  # bytes hashed per read
KEEP_FILES = 4  # index files kept in a cache directory (the newest)
#: the modules whose code decides what the tables hold
_BUILDERS = ("cells", "cellbuild", "cellgeom", "streets", "matching", "ragged")

Tables = dict[str, dict[str, NDArray[Any]]]


def layers_key(
    layers: Mapping[LayerKind, Layer],
    versions: Mapping[LayerKind, int],
    street_radius_m: float,
    cell_m: float,
) -> str:
    """The key of the tables a matcher builds over these layers (hex SHA-256).

    Version ids alone would not do: a database made again (a test, a benchmark, a
    demo load into a new file) numbers its versions from 1 again; hence the layers'
    geometries (WKB) and codes are in it too.
    """
    h = hashlib.sha256(MAGIC)
    h.update(_builders_digest())
    h.update(json.dumps([float(street_radius_m), float(cell_m)]).encode())
    for kind in sorted(layers, key=lambda k: k.value):
        layer = layers[kind]
        h.update(json.dumps([kind.value, versions.get(kind), len(layer.frame)]).encode())
        h.update("\x1f".join(layer.codes.astype(str)).encode())
        geometries = np.asarray(layer.frame.geometry.array, dtype=object)
        h.update(b"".join(shapely.to_wkb(geometries)))  # (WKB is exact; 0.1 s for a city)
    return h.hexdigest()


def _builders_digest() -> bytes:
    """A digest of the source of the modules that build the tables."""
    import gridsvc.core as core

    h = hashlib.sha256()
    for name in _BUILDERS:
        h.update((Path(core.__file__).parent / f"{name}.py").read_bytes())
    return h.digest()


def directory_for(database_url: str, configured: Path | None = None) -> Path:
    """Where a deployment keeps its index files: ``configured``, else ``index-cache`` beside
    the SQLite database, else (PostgreSQL, an in-memory database) a directory of this user's
    in the system's temporary directory: every host keeps its own."""
    if configured is not None:
        return Path(configured)
    database = database_url.removeprefix("sqlite:///")
    if database != database_url and database and not database.startswith(":memory:"):
        return Path(database).parent / "index-cache"
    return Path(tempfile.gettempdir()) / f"gridsvc-index-cache-{os.getuid()}"


def file_for(directory: Path, key: str) -> Path:
    return directory / f"matcher-{key[:32]}.idx"


def write(path: Path, key: str, tables: Tables) -> None:
    """Write the tables under ``key``: a temporary file in the same directory, renamed."""
    entries: list[list[Any]] = []
    chunks: list[memoryview] = []  # the payload: each array's bytes, then zeros to 64
    offset = 0
    for part, named in tables.items():
        for name, value in named.items():
            a = np.asarray(value, order="C")  # (ascontiguousarray makes a 0-d array 1-d)
            if a.dtype.hasobject:
                raise TypeError(f"{part}.{name}: an object array cannot be stored")
            entries.append([part, name, a.dtype.str, list(a.shape), offset, a.nbytes])
            chunks.append(a.reshape(-1).view(np.uint8).data)
            pad = _aligned(offset + a.nbytes) - offset - a.nbytes
            chunks.append(memoryview(bytes(pad)))
            offset += a.nbytes + pad
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    header = json.dumps(
        {"key": key, "arrays": entries, "payload": offset, "sha256": digest.hexdigest()}
    ).encode()
    start = _aligned(len(MAGIC) + 8 + len(header))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + len(header).to_bytes(8, "little") + header)
            f.write(bytes(start - f.tell()))
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o444)  # read-only: a file in use must never be changed in place
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: Path, key: str) -> Tables | None:
    """The tables stored under ``key``, memory-mapped read-only; None when the file is
    missing or is not a whole, unchanged file of this key (the reason is logged)."""
    try:
        with open(path, "rb") as f:
            header, start = _header(f)
            if header.get("key") != key:
                return _refused(path, "another key")
            size = os.fstat(f.fileno()).st_size
            if size != start + int(header["payload"]):
                return _refused(path, f"{size:,} bytes, not {start + int(header['payload']):,}")
            f.seek(start)
            if _digest(f) != header["sha256"]:
                return _refused(path, "its content does not match its digest")
        if int(header["payload"]) == 0:
            return {}
        # a plain array over the map (a numpy.memmap's 0-d views do not convert to numbers)
        whole = np.asarray(np.memmap(path, dtype=np.uint8, mode="r", offset=start))
        tables: Tables = {}
        for part, name, dtype, shape, offset, nbytes in header["arrays"]:
            raw = whole[offset : offset + nbytes]
            tables.setdefault(part, {})[name] = raw.view(np.dtype(dtype)).reshape(shape)
        return tables
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return _refused(path, f"unreadable ({exc})")


def _header(f: Any) -> tuple[dict[str, Any], int]:
    """The header and where the payload starts; ValueError if the file is not one of ours."""
    head = f.read(len(MAGIC) + 8)
    if len(head) < len(MAGIC) + 8 or head[: len(MAGIC)] != MAGIC:
        raise ValueError("not an index file of this format")
    length = int.from_bytes(head[len(MAGIC) :], "little")
    raw = f.read(length)
    if length > 1 << 24 or len(raw) != length:
        raise ValueError("its header is cut short")
    header = json.loads(raw)
    if not isinstance(header, dict):
        raise ValueError("its header is not an object")
    return header, _aligned(len(MAGIC) + 8 + length)


def _digest(f: Any) -> str:
    h = hashlib.sha256()
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    while n := f.readinto(buf):
        h.update(view[:n])
    return h.hexdigest()


def _refused(path: Path, why: str) -> Tables | None:
    """None, after saying why the file is not used."""
    log.warning("index cache %s not used: %s; building it again", path, why)
    return None


def _aligned(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


@contextmanager
def locked(directory: Path, key: str) -> Iterator[None]:
    """An exclusive lock on the key among this host's processes (``flock``): the first
    worker builds and writes while the others wait, then read what it wrote."""
    import fcntl

    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f"matcher-{key[:32]}.lock", "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def prune(directory: Path, keep: Path) -> None:
    """Remove all but the newest ``KEEP_FILES`` index files (and their locks). A process
    that still maps a removed file keeps reading it (Linux frees it at the last unmap)."""
    files = sorted(directory.glob("matcher-*.idx"), key=_mtime, reverse=True)
    for old in [f for f in files if f != keep][KEEP_FILES - 1 :]:
        old.unlink(missing_ok=True)
        old.with_suffix(".lock").unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
