"""Re-create the vendored map assets from the package registries: `python -m gridsvc.maps.vendor`.

folium and branca link their JavaScript and CSS from public CDNs, and so do
FastAPI's /docs (Swagger UI) and /redoc pages. A grid
centre's intranet reaches none of them, so gridsvc serves pinned copies
itself (see `gridsvc.maps.assets`). This script is the one place that says
which copy stands in for which CDN URL: it fetches each package at its pinned
version with `npm pack` (npm registry) or `pip download` (PyPI), keeps only
the files a page loads, applies the few recorded patches and writes
`static/vendor/manifest.json`, which the runtime reads.

The committed files are what runs; nothing downloads at run time or in CI.
Run this only to change a version or add a plugin's assets, then commit the
result. It needs `npm` and network access to the two registries.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"
MANIFEST_NAME = "manifest.json"

JSDELIVR = "https://cdn.jsdelivr.net"
CDNJS = "https://cdnjs.cloudflare.com/ajax/libs"
FOLIUM_GH = f"{JSDELIVR}/gh/python-visualization/folium"


@dataclass(frozen=True)
class Package:
    """One registry package at a pinned version and the files taken from it.

    `files` maps a path inside the package to the CDN URLs folium or branca
    emit for it (empty for files that only a vendored CSS or script loads,
    such as fonts and images). `omitted` lists files the CSS names but that
    no current browser fetches (legacy font formats); they are left out to
    keep the tree small. `patches` rewrites text in a file, for the rare CSS
    that itself points at a CDN.
    """

    name: str
    version: str
    files: dict[str, tuple[str, ...]]
    registry: str = "npm"
    omitted: tuple[str, ...] = ()
    patches: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    note: str = ""
    serves: str = "maps"  # "docs": the API docs' pages only, not copied beside map files

    @property
    def dir_name(self) -> str:
        return f"{self.name}@{self.version}"


GLYPHICONS = "glyphicons-only-bootstrap@1.0.1"

PACKAGES: tuple[Package, ...] = (
    Package(
        "leaflet",
        "1.9.3",
        {
            "dist/leaflet.js": (f"{JSDELIVR}/npm/leaflet@1.9.3/dist/leaflet.js",),
            "dist/leaflet.css": (f"{JSDELIVR}/npm/leaflet@1.9.3/dist/leaflet.css",),
            "dist/images/layers.png": (),
            "dist/images/layers-2x.png": (),
            "dist/images/marker-icon.png": (),
            "dist/images/marker-icon-2x.png": (),
            "dist/images/marker-shadow.png": (),
        },
    ),
    Package(
        "jquery",
        "3.7.1",
        {
            "dist/jquery.min.js": (
                "https://code.jquery.com/jquery-3.7.1.min.js",
                f"{CDNJS}/jquery/3.7.1/jquery.min.js",
            ),
        },
    ),
    Package(
        "bootstrap",
        "5.2.2",
        {
            "dist/css/bootstrap.min.css": (
                f"{JSDELIVR}/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css",
            ),
            "dist/js/bootstrap.bundle.min.js": (
                f"{JSDELIVR}/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js",
            ),
        },
    ),
    Package(
        "@fortawesome/fontawesome-free",
        "6.2.0",
        {
            "css/all.min.css": (
                f"{JSDELIVR}/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css",
            ),
            "webfonts/fa-brands-400.woff2": (),
            "webfonts/fa-regular-400.woff2": (),
            "webfonts/fa-solid-900.woff2": (),
            "webfonts/fa-v4compatibility.woff2": (),
        },
        omitted=(
            "webfonts/fa-brands-400.ttf",
            "webfonts/fa-regular-400.ttf",
            "webfonts/fa-solid-900.ttf",
            "webfonts/fa-v4compatibility.ttf",
        ),
    ),
    Package(
        "leaflet.awesome-markers",
        "2.0.5",
        {
            "dist/leaflet.awesome-markers.js": (
                f"{CDNJS}/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js",
            ),
            "dist/leaflet.awesome-markers.css": (
                f"{CDNJS}/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css",
            ),
            "dist/images/markers-soft.png": (),
            "dist/images/markers-soft@2x.png": (),
            "dist/images/markers-shadow.png": (),
            "dist/images/markers-shadow@2x.png": (),
        },
        note="npm has no 2.0.2; 2.0.5 ships the same Leaflet.AwesomeMarkers 2.0 code",
    ),
    Package(
        "glyphicons-only-bootstrap",
        "1.0.1",
        {
            "css/bootstrap.min.css": (
                "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css",
            ),
            "fonts/glyphicons-halflings-regular.woff2": (),
            "fonts/glyphicons-halflings-regular.woff": (),
        },
        omitted=(
            "fonts/glyphicons-halflings-regular.eot",
            "fonts/glyphicons-halflings-regular.ttf",
            "fonts/glyphicons-halflings-regular.svg",
        ),
        note="Bootstrap 3's glyphicons alone (npm has no bootstrap 3.0.0); "
        "folium.Icon's default prefix is 'glyphicon'",
    ),
    Package(
        "folium",
        "0.20.0",
        {
            "folium/templates/leaflet.awesome.rotate.css": (
                f"{FOLIUM_GH}/folium/templates/leaflet.awesome.rotate.min.css",
            ),
            "folium/templates/leaflet_heat.min.js": (
                f"{FOLIUM_GH}@main/folium/templates/leaflet_heat.min.js",
            ),
        },
        registry="pypi",
        note="folium's own files, from its source distribution",
    ),
    Package(
        "leaflet.fullscreen",
        "3.0.0",
        {
            "Control.FullScreen.js": (
                f"{JSDELIVR}/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js",
            ),
            "Control.FullScreen.css": (
                f"{JSDELIVR}/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css",
            ),
            "icon-fullscreen.svg": (),
        },
    ),
    Package(
        "leaflet-mouse-position",
        "1.2.0",
        {
            "src/L.Control.MousePosition.js": (
                f"{JSDELIVR}/gh/ardhi/Leaflet.MousePosition/src/L.Control.MousePosition.min.js",
            ),
            "src/L.Control.MousePosition.css": (
                f"{JSDELIVR}/gh/ardhi/Leaflet.MousePosition/src/L.Control.MousePosition.min.css",
            ),
        },
        note="the npm release of ardhi's Leaflet.MousePosition",
    ),
    Package(
        "leaflet-groupedlayercontrol",
        "0.6.1",
        {
            "dist/leaflet.groupedlayercontrol.min.js": (
                f"{CDNJS}/leaflet-groupedlayercontrol/0.6.1/leaflet.groupedlayercontrol.min.js",
            ),
            "dist/leaflet.groupedlayercontrol.min.css": (
                f"{CDNJS}/leaflet-groupedlayercontrol/0.6.1/leaflet.groupedlayercontrol.min.css",
            ),
        },
    ),
    Package(
        "d3",
        "3.5.5",
        {"d3.min.js": (f"{CDNJS}/d3/3.5.5/d3.min.js",)},
        note="branca's colormap legends",
    ),
    Package(
        "d3",
        "4.13.0",
        {"build/d3.min.js": ("https://d3js.org/d3.v4.min.js",)},
        note="TimeSliderChoropleth; d3.v4 is the last 4.x, 4.13.0",
    ),
    Package(
        "moment",
        "2.18.1",
        {"min/moment.min.js": (f"{CDNJS}/moment.js/2.18.1/moment.min.js",)},
    ),
    Package(
        "iso8601-js-period",
        "0.2.1",
        {"iso8601.js": (f"{JSDELIVR}/npm/iso8601-js-period@0.2.1/iso8601.min.js",)},
    ),
    Package(
        "leaflet-timedimension",
        "1.1.1",
        {
            "dist/leaflet.timedimension.min.js": (
                f"{JSDELIVR}/npm/leaflet-timedimension@1.1.1/dist/leaflet.timedimension.min.js",
            ),
            "dist/leaflet.timedimension.control.css": (
                f"{JSDELIVR}/npm/leaflet-timedimension@1.1.1/dist/leaflet.timedimension.control.css",
            ),
        },
        patches={
            "dist/leaflet.timedimension.control.css": (
                (
                    "//netdna.bootstrapcdn.com/bootstrap/3.0.0/fonts/",
                    f"../../{GLYPHICONS}/fonts/",
                ),
            ),
        },
        note="its control CSS loads the glyphicons font from a CDN; patched to the vendored font",
    ),
    Package(
        "swagger-ui-dist",
        "5.36.0",
        {
            "swagger-ui-bundle.js": (f"{JSDELIVR}/npm/swagger-ui-dist@5/swagger-ui-bundle.js",),
            "swagger-ui.css": (f"{JSDELIVR}/npm/swagger-ui-dist@5/swagger-ui.css",),
            "favicon-32x32.png": ("https://fastapi.tiangolo.com/img/favicon.png",),
        },
        note="/docs (FastAPI's Swagger UI page), not a map",
        serves="docs",
    ),
    Package(
        "redoc",
        "2.5.2",
        {"bundles/redoc.standalone.js": (f"{JSDELIVR}/npm/redoc@2/bundles/redoc.standalone.js",)},
        patches={
            "bundles/redoc.standalone.js": (
                ('src:"https://cdn.redoc.ly/redoc/logo-mini.svg"', 'src:""'),
            ),
        },
        note="/redoc (FastAPI's ReDoc page, written for ReDoc 2), not a map; its menu's "
        "'API docs by Redocly' logo loads from a CDN, patched to an empty src (the logo "
        "hides itself when it fails to load)",
        serves="docs",
    ),
    Package(
        "highlight.js",
        "8.4.0",
        {"styles/default.css": (f"{CDNJS}/highlight.js/8.4/styles/default.min.css",)},
    ),
)

# CDN URLs folium emits that gridsvc deliberately does not load, with the reason.
DROPPED: dict[str, str] = {
    f"{CDNJS}/jqueryui/1.10.2/jquery-ui.min.js": (
        "TimestampedGeoJson links jQuery UI 1.10.2 but neither its template nor "
        "leaflet-timedimension uses it, and npm has no built 1.10.2"
    ),
}


def main(argv: list[str] | None = None) -> int:
    """Fetch every package, replace the vendor tree and write its manifest."""
    parser = argparse.ArgumentParser(prog="python -m gridsvc.maps.vendor", description=__doc__)
    parser.add_argument("--dest", type=Path, default=VENDOR_DIR, help="vendor tree to replace")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp) / "vendor"
        entries = [_vendor_package(package, Path(tmp), staging) for package in PACKAGES]
        manifest = {
            "generated_by": "python -m gridsvc.maps.vendor",
            "packages": entries,
            "dropped": DROPPED,
        }
        (staging / MANIFEST_NAME).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        if args.dest.exists():
            shutil.rmtree(args.dest)
        shutil.copytree(staging, args.dest)
    total = sum(p.stat().st_size for p in args.dest.rglob("*") if p.is_file())
    print(f"vendored {len(PACKAGES)} packages into {args.dest} ({total / 1024:.0f} KiB)")
    return 0


def _vendor_package(package: Package, tmp: Path, staging: Path) -> dict:
    """Fetch one package, copy its files into `staging` and describe them."""
    archive, provenance = _fetch(package, tmp)
    target = staging / package.dir_name
    files = []
    with tarfile.open(archive) as tar:
        root = tar.getnames()[0].split("/", 1)[0]  # "package" for npm, "name-version" for sdists
        for path, urls in {**package.files, **_license_files(tar, root)}.items():
            member = tar.extractfile(f"{root}/{path}")
            if member is None:
                raise SystemExit(f"{package.dir_name}: {path} is not a file in the archive")
            data = _patched(member.read(), package.patches.get(path, ()), package, path)
            out = target / path
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
            files.append(
                {
                    "path": path,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "bytes": len(data),
                    "replaces": list(urls),
                    **({"patched": True} if path in package.patches else {}),
                }
            )
    return {
        "name": package.name,
        "version": package.version,
        "registry": package.registry,
        "dir": package.dir_name,
        "serves": package.serves,
        **provenance,
        "files": files,
        "omitted": list(package.omitted),
        **({"note": package.note} if package.note else {}),
    }


def _license_files(tar: tarfile.TarFile, root: str) -> dict[str, tuple[str, ...]]:
    """The package's top-level licence files: the copyright notices travel with the code."""
    names = (name.split("/", 1)[1] for name in tar.getnames() if name.count("/") == 1)
    return {
        name: () for name in names if name.upper().startswith(("LICENSE", "LICENCE", "MIT-LICEN"))
    }


def _patched(
    data: bytes, patches: tuple[tuple[str, str], ...], package: Package, path: str
) -> bytes:
    text = data.decode("utf-8") if patches else ""
    for old, new in patches:
        if old not in text:
            raise SystemExit(f"{package.dir_name}/{path}: patch target {old!r} not found")
        text = text.replace(old, new)
    return text.encode("utf-8") if patches else data


def _fetch(package: Package, tmp: Path) -> tuple[Path, dict[str, str]]:
    """Download the package archive with the registry's own client."""
    spec = f"{package.name}@{package.version}"
    if package.registry == "npm":
        out = subprocess.run(
            ["npm", "pack", spec, "--json", "--pack-destination", str(tmp)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        info = json.loads(out)[0]
        archive = tmp / info["filename"]
        return archive, {"archive": info["filename"], "integrity": info["integrity"]}
    dest = tmp / spec
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
        + ["-d", str(dest), f"{package.name}=={package.version}"],
        check=True,
    )
    (archive,) = dest.iterdir()
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    return archive, {"archive": archive.name, "sha256": digest}


if __name__ == "__main__":
    raise SystemExit(main())
