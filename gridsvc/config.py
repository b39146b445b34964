"""Settings, read from ``GRIDSVC_*`` environment variables (pydantic-settings).

Only the composition roots (``api/app.py``, ``cli/`` and ``intake_writer.py``) read
Settings; everything else receives what it needs as arguments.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "data" / "demo"


class Settings(BaseSettings):
    """Service configuration; every field can be set as ``GRIDSVC_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="GRIDSVC_", env_file=".env", extra="ignore")

    town_file: Path = Field(
        default=DEMO_DIR / "shifan.gpkg",
        description="GeoPackage holding the town's layers (jurisdiction, units, grids, committees, streets)",
    )
    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'var' / 'gridsvc.db'}",
        description="SQLAlchemy URL; SQLite (WAL, synchronous=FULL) by default",
    )
    database_pool_size: int = Field(
        default=32,
        ge=1,
        description="PostgreSQL: connections a server process keeps open, at least as many as "
        "it uses at once (its intake runs min(32, cores + 4) threads); the server's "
        "max_connections must hold hosts x workers x (this + the overflow) at a peak",
    )
    database_max_overflow: int = Field(
        default=16, ge=0, description="PostgreSQL: connections opened beyond the pool at a peak"
    )
    demo_dir: Path = Field(
        default=DEMO_DIR, description="the demo town's files, for `gridsvc demo load`"
    )
    duplicate_radius_m: float = Field(
        default=50.0, gt=0, description="possible duplicates: distance"
    )
    duplicate_window_h: float = Field(
        default=72.0, gt=0, description="possible duplicates: hours back"
    )
    intake_socket: Path | None = Field(
        default=None,
        description="the intake writer's Unix socket, set by `gridsvc serve` for its workers; "
        "unset, a process writes its reports itself",
    )
    max_body_bytes: int = Field(default=64 * 1024, gt=0, description="largest JSON body accepted")
    max_attachment_bytes: int = Field(
        default=10 * 1024 * 1024, gt=0, description="largest photo accepted"
    )
    attachment_max_pixels: int = Field(
        default=50_000_000,
        gt=0,
        description="largest photo in pixels (a 48 MP phone camera fits); a decompression bomb is refused",
    )
    attachment_strip_gps: bool = Field(
        default=False,
        description="re-encode photos without their EXIF GPS; off: the patrol's location is evidence",
    )
    attachments_dir: Path = Field(
        default=ROOT / "var" / "attachments", description="photos, stored by content hash"
    )
    max_layer_bytes: int = Field(
        default=100 * 1024 * 1024, gt=0, description="largest layer upload"
    )
    version_poll_s: float = Field(
        default=5.0, gt=0, description="how often a worker checks for new layers"
    )
    rate_per_minute: int = Field(default=600, gt=0, description="requests a minute per API key")
    anonymous_rate_per_minute: int = Field(
        default=120, gt=0, description="requests a minute per address without a key (Open311)"
    )
    export_max_rows: int = Field(
        default=100_000, gt=0, description="most cases one CSV export may hold"
    )
    export_turns: int = Field(
        default=2, gt=0, le=64, description="CSV exports running at once per server process"
    )
    live_max_wait_s: float = Field(
        default=25, ge=0, le=25, description="longest a /api/v1/changes request is held"
    )
    street_radius_m: float = Field(
        default=50.0, gt=0, le=1000, description="nearest-street search radius"
    )
    index_cache_dir: Path | None = Field(
        default=None,
        description="where server processes keep the matcher's built indexes, one file per "
        "published layer set, memory-mapped and shared by the workers (a restart skips the "
        "build); default: index-cache/ beside the SQLite database, else a directory in the "
        "system's temporary directory (each PostgreSQL host its own)",
    )
    cell_m: float = Field(
        default=2.5, gt=0, le=100, description="fine lookup-raster cell size (metres)"
    )
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$",
        description="the address phones reach the service by (sign-in QR codes), e.g. "
        "http://10.20.1.5:8000 or https://wgh.example.gov.cn; default: the address the "
        "browser that asked used",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    lang: str = Field(default="zh", pattern="^(zh|en)$", description="label language")
    evaluation_county_weight: float = Field(
        default=0.3, description="the town's share in a county department's score (at least 0.3)"
    )
    evaluation_stationed_weight: float = Field(
        default=0.6, description="the town's share in a stationed agency's score (at least 0.6)"
    )
    sliver_m2: float = Field(
        default=10.0, ge=0, description="gaps and overlaps under this (m²) are slivers"
    )
    maps_offline: bool = Field(
        default=True,
        description="maps load nothing from the internet: basemap none or the intranet tiles only",
    )
    tianditu_key: str = Field(default="", description="天地图 key, for the Tianditu basemap")
    tile_url: str = Field(
        default="", description="intranet tile server, e.g. http://tiles.local/{z}/{x}/{y}.png"
    )
    tile_attribution: str = Field(default="", description="attribution of the intranet tiles")
    maps_dir: Path = Field(
        default=ROOT / "maps", description="where `make run` and `gridsvc map` write maps"
    )
