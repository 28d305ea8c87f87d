#!/usr/bin/env python3
"""Vendor the pinned Leaflet front-end assets into ``mapservice/static/vendor/``.

Why this script exists
----------------------
Rule of the project: a page of the service makes *no* request to a third-party host. Leaflet,
every plugin, stylesheet, image and font is served by the service itself from
``/static/vendor/...``. This script is the only way those files get there:

* every package is pinned by name, version *and* the sha512 integrity of its npm tarball; the
  tarball is fetched with ``npm pack <name>@<version>`` into a temporary directory (the npm
  registry is the only host contacted) and verified before anything is read from it;
* only the distribution files listed below are copied (JS, CSS, the images the CSS or JS need,
  and the package's licence text), byte for byte, into ``vendor/<package-dir>/``;
* every ``url(...)`` / ``@import`` of every copied CSS file must resolve to a copied file:
  ``data:`` URIs and same-document fragments are accepted, any other host or absolute path
  stops the script;
* every URL string in the copied JS/CSS/SVG must have been reviewed (listed in ``known_urls``
  with the reason why it is not fetched); a new one stops the script;
* ``vendor/VENDOR.md`` lists package, version, licence (from package.json), tarball
  integrity, the files, their sizes and sha256, and the review notes. No timestamps: the same
  pins give byte-identical output.

Usage::

    python3 scripts/vendor_assets.py            # (re)write mapservice/static/vendor/
    python3 scripts/vendor_assets.py --check    # exit 1 if the vendored files differ

Exit status: 0 ok; 1 ``--check`` found differences; 2 an error (npm failure, integrity
mismatch, missing file in a tarball, bad CSS reference, unreviewed URL).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import posixpath
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VENDOR_DIR = REPO_ROOT / "mapservice" / "static" / "vendor"
URL_PREFIX = "/static/vendor"
MANIFEST = "VENDOR.md"

SVG_NS = "XML namespace identifier of inline SVG markup, never fetched"


@dataclass(frozen=True)
class Package:
    """One pinned npm package and the files taken from it."""

    name: str
    version: str
    integrity: str  # SRI string of the registry tarball ("sha512-<base64>")
    dest: str  # directory below vendor/
    files: tuple[tuple[str, str], ...]  # (path inside the package, path below dest)
    licence_file: str  # path below dest of the licence text
    known_urls: Mapping[str, str] = field(default_factory=dict)  # URL -> why it is not fetched
    notes: tuple[str, ...] = ()


PACKAGES: tuple[Package, ...] = (
    Package(
        name="leaflet",
        version="1.9.4",
        integrity="sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
        dest="leaflet",
        files=(
            ("dist/leaflet.js", "leaflet.js"),
            ("dist/leaflet.css", "leaflet.css"),
            ("dist/images/layers.png", "images/layers.png"),
            ("dist/images/layers-2x.png", "images/layers-2x.png"),
            ("dist/images/marker-icon.png", "images/marker-icon.png"),
            ("dist/images/marker-icon-2x.png", "images/marker-icon-2x.png"),
            ("dist/images/marker-shadow.png", "images/marker-shadow.png"),
            ("LICENSE", "LICENSE"),
        ),
        licence_file="LICENSE",
        known_urls={
            "http://www.w3.org/2000/svg": SVG_NS,
            "https://leafletjs.com": "in the banner comment, and the href of the 'Leaflet' link of the "
            "attribution prefix: followed only when a user clicks it "
            "(change with `attributionControl.setPrefix`)",
            "https://bugs.chromium.org/p/chromium/issues/detail?id=600120": "inside a CSS comment",
            "https://bugzilla.mozilla.org/show_bug.cgi?id=888319": "inside a CSS comment",
        },
        notes=(
            "`leaflet.css` references `images/layers.png`, `images/layers-2x.png` and "
            "`images/marker-icon.png`; `leaflet.js` derives the default icon path from the computed "
            "`url(...)` of `.leaflet-default-icon-path` and then loads `marker-icon-2x.png` and "
            "`marker-shadow.png` from the same folder, so the `images/` folder must stay next to "
            "`leaflet.css`.",
            "`url(#default#VML)` in `leaflet.css`/`leaflet.js` is the legacy IE VML `behavior`, a "
            "same-document reference: no request.",
            "`L.TileLayer` has no default URL: tiles are requested only from the URL the page passes.",
        ),
    ),
    Package(
        name="leaflet.markercluster",
        version="1.5.3",
        integrity="sha512-vPTw/Bndq7eQHjLBVlWpnGeLa3t+3zGiuM7fJwCkiMFq+nmRuG3RI3f7f4N4TDX7T4NpbAXpR2+NTRSEGfCSeA==",
        dest="leaflet.markercluster",
        files=(
            ("dist/leaflet.markercluster.js", "leaflet.markercluster.js"),
            ("dist/MarkerCluster.css", "MarkerCluster.css"),
            ("dist/MarkerCluster.Default.css", "MarkerCluster.Default.css"),
            ("MIT-LICENCE.txt", "MIT-LICENCE.txt"),
        ),
        licence_file="MIT-LICENCE.txt",
        notes=(
            "folium's `MarkerCluster` plugin points at 1.1.0 on cdnjs; 1.5.3 keeps the same API "
            "(`L.markerClusterGroup`).",
        ),
    ),
    Package(
        name="leaflet.fullscreen",
        version="3.0.0",
        integrity="sha512-81wWSUXz1ZtdneR0v5eJDWXUSx+Zo5J50WXWeydG/UcILfIEAgz/iOjZSi3p00Z9MJ/FC/P5i3CgdYuEAos0yQ==",
        dest="leaflet.fullscreen",
        files=(
            ("Control.FullScreen.js", "Control.FullScreen.js"),
            ("Control.FullScreen.css", "Control.FullScreen.css"),
            ("icon-fullscreen.svg", "icon-fullscreen.svg"),
            ("LICENSE", "LICENSE"),
        ),
        licence_file="LICENSE",
        known_urls={
            "http://www.w3.org/2000/svg": SVG_NS,
            "http://www.sitepoint.com/html5-full-screen-api/": "inside a CSS comment",
        },
        notes=(
            "The npm tarball of 3.0.0 contains **no** `Control.FullScreen.min.js`: the file folium "
            "references (`cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js`) is "
            "minified on the fly by jsDelivr. The unminified `Control.FullScreen.js` (the package's "
            "`main`) is vendored instead; it defines `L.Control.FullScreen` and `L.control.fullscreen`.",
            "`Control.FullScreen.css` references `icon-fullscreen.svg` (relative), vendored next to it.",
            "package.json gives the licence as `MIT License` (not an SPDX id); the LICENSE text is MIT.",
        ),
    ),
    Package(
        name="leaflet.locatecontrol",
        version="0.66.2",
        integrity="sha512-33xCfRydyjLfh9nGvf4kSTM0tA1EFFgM0z4uj75QkUwIc9cz0vJqWABsyDirLm1GBKeEr8/krcnc10X1YuK7oA==",
        dest="leaflet.locatecontrol",
        files=(
            ("dist/L.Control.Locate.min.js", "L.Control.Locate.min.js"),
            ("dist/L.Control.Locate.min.css", "L.Control.Locate.min.css"),
            ("LICENSE", "LICENSE"),
        ),
        licence_file="LICENSE",
        known_urls={"http://www.w3.org/2000/svg": SVG_NS},
        notes=(
            'Icon font: the plugin\'s defaults are `icon: "fa fa-map-marker"` and '
            '`iconLoading: "fa fa-spinner fa-spin"` (Font Awesome classes), and its CSS ships no '
            "icon of its own. Font Awesome is deliberately **not** vendored: pass your own classes "
            'instead, e.g. `folium.plugins.LocateControl(icon="dsm-locate-icon", '
            'iconLoading="dsm-locate-icon dsm-locate-loading")` (folium passes the keyword '
            "arguments through unchanged), and style those classes in the service's own CSS with an "
            "inline `data:image/svg+xml,...` background (a `data:` URI makes no request). Without "
            "either, the button is an empty square. If Font Awesome is wanted after all, add "
            "`@fortawesome/fontawesome-free@6.2.0` here (`css/all.min.css` + `webfonts/*.woff2`, "
            "`*.ttf`; FA 6 still defines `.fa`, `.fa-map-marker`, `.fa-spinner`, `.fa-spin`).",
            "The banner of `L.Control.Locate.min.js` in the 0.66.2 tarball says `Version: 0.66.1` "
            "(stale banner upstream); the code is the one published as 0.66.2 and defines "
            "`L.control.locate`.",
        ),
    ),
    Package(
        name="protomaps-leaflet",
        version="5.1.0",
        integrity="sha512-N0YY1Gbw5nZ9n8VUOvwHKm/w3zhTTuaZEeMZl8doHemeM4ujGPp2otI6t4Sgqrz8iM4svx2rpG1Q17rHkOWSaA==",
        dest="protomaps-leaflet",
        files=(
            ("dist/protomaps-leaflet.js", "protomaps-leaflet.js"),
            ("LICENSE", "LICENSE"),
        ),
        licence_file="LICENSE",
        known_urls={
            "http://www.w3.org/2000/svg": SVG_NS,
            "http://example.com": "only the base of `new URL(url, ...)`, which parses the archive URL "
            "the page passes to tell a `.pmtiles` file from a z/x/y template; URL parsing makes no "
            "request",
            "https://protomaps.com": "href of the default attribution, used only when the page passes "
            "no `attribution` (static/js/dsm-basemap.js always passes one); a link, followed only "
            "on click",
            "https://openstreetmap.org/copyright": "the same default attribution; a link, followed "
            "only on click",
        },
        notes=(
            "`dist/protomaps-leaflet.js` is the browser bundle (an IIFE defining the global "
            "`protomapsL`). It bundles its npm dependencies, among them `pmtiles` (HTTP Range "
            "reader), `@mapbox/vector-tile`, `pbf` and the colour themes of `@protomaps/basemaps` "
            "(`namedFlavor`: `light`, `dark`, `white`, `grayscale`, `black`), so no separate theme "
            "package is vendored: `leafletLayer({flavor, lang})` builds the paint and label rules "
            "from the bundled theme.",
            "No glyphs, sprites or fonts are fetched: labels are drawn on the canvas with CSS font "
            "names (`sans-serif`), and the bundle's `Font()` / `Sheet` helpers (FontFace, SVG "
            "sprites) run only when a page calls them, which this service never does.",
            "The only requests are `fetch()`es of the URL the page passes (here the service's own "
            "`/basemap/basemap.pmtiles`) with a `Range` header; with a z/x/y template instead of a "
            "`.pmtiles` URL it would fetch that template. There is no default tile URL.",
            "`maxDataZoom` defaults to 15: static/js/dsm-basemap.js passes the archive's own "
            "maximum zoom from its header, so deeper zooms over-zoom the last level.",
        ),
    ),
)

TEXT_SUFFIXES = (".js", ".css", ".svg")
CSS_COMMENT_RE = re.compile(r"/\*.*?\*/", re.DOTALL)
CSS_URL_RE = re.compile(r"""url\(\s*(?P<q>['"]?)(?P<url>.*?)(?P=q)\s*\)""", re.IGNORECASE)
CSS_IMPORT_RE = re.compile(r"""@import\s+(?P<q>['"])(?P<url>.*?)(?P=q)""", re.IGNORECASE)
SOURCE_MAP_RE = re.compile(r"[#@]\s*sourceMappingURL=(?P<url>[^\s*]+)")
SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# Absolute or protocol-relative URLs naming a host, as they may appear anywhere in JS/CSS/SVG.
URL_RE = re.compile(
    r"""(?P<scheme>\b(?:https?|wss?|ftp):)?//[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d+)?[^\s"'`()<>\\,;]*"""
)


class VendorError(Exception):
    """A problem that must stop the script (exit status 2)."""


@dataclass
class Planned:
    """Everything the pinned versions give: file contents below vendor/ and report lines."""

    files: dict[str, bytes] = field(default_factory=dict)  # vendor-relative posix path -> content
    origin: dict[str, str] = field(default_factory=dict)  # vendor-relative path -> path in tarball
    licences: dict[str, str] = field(default_factory=dict)  # package name -> licence string
    css_checks: dict[str, list[str]] = field(default_factory=dict)  # package name -> lines
    url_reviews: dict[str, list[str]] = field(default_factory=dict)  # package name -> lines
    source_maps: dict[str, list[str]] = field(default_factory=dict)  # package name -> lines


def sri_sha512(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def npm_pack(pkg: Package, workdir: Path) -> Path:
    """Fetch ``name@version`` from the npm registry into ``workdir`` and return the tarball path."""
    spec = f"{pkg.name}@{pkg.version}"
    cmd = ["npm", "pack", spec, "--json", "--ignore-scripts", "--pack-destination", str(workdir)]
    try:
        proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise VendorError("npm is not installed or not on PATH") from exc
    if proc.returncode != 0:
        raise VendorError(f"`{' '.join(cmd)}` failed (exit {proc.returncode}):\n{proc.stderr.strip()}")
    try:
        info = json.loads(proc.stdout)
        filename = str(info[0]["filename"])
    except (ValueError, LookupError, TypeError) as exc:
        raise VendorError(f"unexpected output of `npm pack {spec} --json`: {proc.stdout[:500]!r}") from exc
    # npm names scoped tarballs "scope-name-version.tgz"; only a plain file name is acceptable.
    if "/" in filename or "\\" in filename:
        raise VendorError(f"npm pack {spec}: unexpected tarball name {filename!r}")
    path = workdir / filename
    if not path.is_file():
        raise VendorError(f"npm pack {spec}: tarball {path} was not written")
    return path


def read_members(tarball: Path, wanted: set[str]) -> dict[str, bytes]:
    """Return the regular files ``wanted`` (paths relative to the package root) from an npm tarball."""
    found: dict[str, bytes] = {}
    available: list[str] = []
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            parts = member.name.split("/", 1)
            if len(parts) != 2:
                continue
            rel = parts[1]  # npm tarballs have one top directory, usually "package/"
            available.append(rel)
            if rel in wanted:
                if rel in found:
                    raise VendorError(f"{tarball.name}: {rel} occurs twice")
                handle = tar.extractfile(member)
                if handle is None:
                    raise VendorError(f"{tarball.name}: cannot read {rel}")
                found[rel] = handle.read()
    missing = sorted(wanted - found.keys())
    if missing:
        listing = "\n  ".join(sorted(a for a in available if "/" not in a or a.startswith("dist/")))
        raise VendorError(
            f"{tarball.name}: missing {', '.join(missing)}; top-level and dist/ files are:\n  {listing}"
        )
    return found


def licence_of(manifest: Mapping[str, object]) -> str:
    value = manifest.get("license")
    if isinstance(value, str) and value:
        return value
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return str(value["type"])
    legacy = manifest.get("licenses")
    if isinstance(legacy, list):
        types = [str(x["type"]) for x in legacy if isinstance(x, dict) and "type" in x]
        if types:
            return " OR ".join(types)
    return "UNKNOWN (no licence in package.json)"


def check_css(path: str, text: str, all_files: Mapping[str, bytes]) -> tuple[list[str], list[str]]:
    """Check every url()/@import of a CSS file; return (report lines, errors)."""
    lines: list[str] = []
    errors: list[str] = []
    body = CSS_COMMENT_RE.sub("", text)
    refs = [m.group("url").strip() for m in CSS_URL_RE.finditer(body)]
    refs += [m.group("url").strip() for m in CSS_IMPORT_RE.finditer(body)]
    if not refs:
        return [f"`{path}`: no `url(...)` references"], []
    seen: set[str] = set()
    for ref in refs:
        if ref in seen:
            continue
        seen.add(ref)
        if ref.startswith("data:"):
            lines.append(f"`{path}`: `{ref[:40]}...` -> inline data URI, ok")
        elif ref.startswith("#"):
            lines.append(f"`{path}`: `{ref}` -> same-document reference, no request, ok")
        elif SCHEME_RE.match(ref) or ref.startswith("//"):
            errors.append(f"{path}: url {ref!r} points to another host")
        elif ref.startswith("/"):
            errors.append(f"{path}: url {ref!r} is an absolute path, not a vendored file")
        else:
            target_rel = re.split(r"[?#]", ref, maxsplit=1)[0]
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), target_rel))
            if target in all_files:
                lines.append(f"`{path}`: `{ref}` -> `{target}`, ok")
            else:
                errors.append(f"{path}: url {ref!r} resolves to {target!r}, which is not vendored")
    return lines, errors


def review_urls(pkg: Package, path: str, text: str) -> tuple[list[str], list[str]]:
    """Find host-naming URLs in a text file; every one must be explained in ``pkg.known_urls``."""
    lines: list[str] = []
    errors: list[str] = []
    counts: dict[str, int] = {}
    for m in URL_RE.finditer(text):
        if m.group("scheme") is None:
            before = text[m.start() - 1] if m.start() > 0 else ""
            if before not in "\"'(=":  # a `//` comment, not a protocol-relative URL
                continue
        url = m.group(0).rstrip(".")
        counts[url] = counts.get(url, 0) + 1
    for url in sorted(counts):
        reason = pkg.known_urls.get(url)
        if reason is None:
            errors.append(f"{path}: unreviewed URL {url!r}; review it, add it to known_urls")
        else:
            lines.append(f"`{path}`: `{url}` ({counts[url]}x): {reason}")
    return lines, errors


def source_map_refs(path: str, text: str, all_files: Mapping[str, bytes]) -> tuple[list[str], list[str]]:
    """Report ``sourceMappingURL`` comments: dev tools request them (same origin) only when open."""
    lines: list[str] = []
    errors: list[str] = []
    for m in SOURCE_MAP_RE.finditer(text):
        ref = m.group("url")
        if ref.startswith("data:"):
            continue
        if SCHEME_RE.match(ref) or ref.startswith(("/", "//")):
            errors.append(f"{path}: sourceMappingURL {ref!r} points outside the vendored folder")
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), ref))
        state = "vendored" if target in all_files else "not vendored: open dev tools get a same-origin 404"
        lines.append(f"`{path}` -> `{target}` ({state})")
    return lines, errors


def plan(packages: Sequence[Package]) -> Planned:
    """Fetch and verify all packages; return the complete content of vendor/."""
    planned = Planned()
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="vendor-assets-") as tmp:
        for pkg in packages:
            print(f"fetching {pkg.name}@{pkg.version} ...", file=sys.stderr)
            tarball = npm_pack(pkg, Path(tmp))
            data = tarball.read_bytes()
            actual = sri_sha512(data)
            if actual != pkg.integrity:
                raise VendorError(
                    f"{pkg.name}@{pkg.version}: tarball integrity {actual} != pinned {pkg.integrity}"
                )
            sources = {src for src, _ in pkg.files}
            members = read_members(tarball, sources | {"package.json"})
            manifest = json.loads(members["package.json"])
            if manifest.get("name") != pkg.name or manifest.get("version") != pkg.version:
                raise VendorError(
                    f"{tarball.name}: package.json says {manifest.get('name')}@{manifest.get('version')}"
                )
            planned.licences[pkg.name] = licence_of(manifest)
            if pkg.licence_file not in {dst for _, dst in pkg.files}:
                raise VendorError(f"{pkg.name}: licence file {pkg.licence_file} is not among the files")
            for src, dst in pkg.files:
                rel = posixpath.normpath(f"{pkg.dest}/{dst}")
                if rel.startswith("../") or not rel.startswith(f"{pkg.dest}/") or rel == MANIFEST:
                    raise VendorError(f"{pkg.name}: bad destination {dst!r}")
                if rel in planned.files:
                    raise VendorError(f"{pkg.name}: two files map to {rel}")
                planned.files[rel] = members[src]
                planned.origin[rel] = src
    for pkg in packages:
        css_lines: list[str] = []
        url_lines: list[str] = []
        map_lines: list[str] = []
        for _, dst in pkg.files:
            rel = f"{pkg.dest}/{dst}"
            if not rel.endswith(TEXT_SUFFIXES):
                continue
            text = planned.files[rel].decode("utf-8")
            if rel.endswith(".css"):
                found, errs = check_css(rel, text, planned.files)
                css_lines += found
                errors += errs
            found, errs = review_urls(pkg, rel, text)
            url_lines += found
            errors += errs
            if not rel.endswith(".svg"):
                found, errs = source_map_refs(rel, text, planned.files)
                map_lines += found
                errors += errs
        seen_urls = {line.split("`")[3] for line in url_lines}
        errors += [
            f"{pkg.name}: known_urls entry {u!r} no longer occurs" for u in pkg.known_urls.keys() - seen_urls
        ]
        planned.css_checks[pkg.name] = css_lines
        planned.url_reviews[pkg.name] = url_lines
        planned.source_maps[pkg.name] = map_lines
    if errors:
        raise VendorError("\n".join(errors))
    planned.files[MANIFEST] = render_manifest(packages, planned).encode("utf-8")
    return planned


def render_manifest(packages: Sequence[Package], planned: Planned) -> str:
    out: list[str] = [
        "# Vendored front-end assets",
        "",
        "Generated by `scripts/vendor_assets.py` from the pinned npm tarballs. **Do not edit by hand**:",
        "change the pins in the script and run `python3 scripts/vendor_assets.py`; "
        "`python3 scripts/vendor_assets.py --check` exits 1 if these files differ from what the pins give.",
        "",
        "Every file is served by the service itself; pages must not request anything from another host.",
        f"Paths below are relative to this folder; the URL of a file is `{URL_PREFIX}/<path>`.",
        "",
        "| Package | Version | Licence (package.json) | Folder | Files | Bytes |",
        "|---|---|---|---|---:|---:|",
    ]
    for pkg in packages:
        rels = [f"{pkg.dest}/{dst}" for _, dst in pkg.files]
        size = sum(len(planned.files[r]) for r in rels)
        out.append(
            f"| `{pkg.name}` | {pkg.version} | {planned.licences[pkg.name]} | `{pkg.dest}/` "
            f"| {len(rels)} | {size} |"
        )
    for pkg in packages:
        out += [
            "",
            f"## {pkg.name} {pkg.version}",
            "",
            f"- npm: `{pkg.name}@{pkg.version}`, tarball integrity `{pkg.integrity}`",
            f"- Licence (package.json `license`): {planned.licences[pkg.name]}; "
            f"licence text: `{pkg.dest}/{pkg.licence_file}`",
            "",
            "| File | From the package | Bytes | SHA-256 |",
            "|---|---|---:|---|",
        ]
        for _, dst in pkg.files:
            rel = f"{pkg.dest}/{dst}"
            content = planned.files[rel]
            digest = hashlib.sha256(content).hexdigest()
            out.append(f"| `{rel}` | `{planned.origin[rel]}` | {len(content)} | `{digest}` |")
        if planned.css_checks[pkg.name]:
            out += ["", "CSS references (every `url(...)`/`@import` must be a vendored file):", ""]
            out += [f"- {line}" for line in planned.css_checks[pkg.name]]
        out += ["", "URLs naming a host in the code (reviewed; none is requested by default):", ""]
        out += [f"- {line}" for line in planned.url_reviews[pkg.name]] or ["- none"]
        if planned.source_maps[pkg.name]:
            out += ["", "Source-map comments (only browser dev tools follow them):", ""]
            out += [f"- {line}" for line in planned.source_maps[pkg.name]]
        if pkg.notes:
            out += ["", "Notes:", ""]
            out += [f"- {note}" for note in pkg.notes]
    return "\n".join(out) + "\n"


def existing_files(vendor_dir: Path) -> set[str]:
    if not vendor_dir.is_dir():
        return set()
    return {p.relative_to(vendor_dir).as_posix() for p in vendor_dir.rglob("*") if p.is_file()}


def compare(planned: Planned, vendor_dir: Path) -> list[str]:
    diffs: list[str] = []
    on_disk = existing_files(vendor_dir)
    for rel in sorted(planned.files):
        path = vendor_dir / rel
        if rel not in on_disk:
            diffs.append(f"missing: {rel}")
        elif path.read_bytes() != planned.files[rel]:
            diffs.append(f"differs: {rel}")
    diffs += [f"unexpected: {rel}" for rel in sorted(on_disk - planned.files.keys())]
    return diffs


def write(planned: Planned, vendor_dir: Path, packages: Sequence[Package]) -> None:
    vendor_dir.mkdir(parents=True, exist_ok=True)
    for rel in sorted(planned.files):
        path = vendor_dir / rel
        content = planned.files[rel]
        if path.is_file() and path.read_bytes() == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        print(f"wrote {rel} ({len(content)} bytes)")
    managed = tuple(f"{pkg.dest}/" for pkg in packages)
    for rel in sorted(existing_files(vendor_dir) - planned.files.keys()):
        if rel.startswith(managed):
            (vendor_dir / rel).unlink()
            print(f"removed stale {rel}")
        else:
            print(f"warning: {rel} is not managed by this script (left in place)", file=sys.stderr)
    for pkg in packages:  # drop directories emptied by the removals, deepest first
        root = vendor_dir / pkg.dest
        for d in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            if not any(d.iterdir()):
                d.rmdir()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if vendor/ differs")
    parser.add_argument(
        "--vendor-dir",
        type=Path,
        default=DEFAULT_VENDOR_DIR,
        help=f"target folder (default: {DEFAULT_VENDOR_DIR.relative_to(REPO_ROOT)})",
    )
    args = parser.parse_args(argv)
    vendor_dir: Path = args.vendor_dir
    try:
        planned = plan(PACKAGES)
    except VendorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for pkg in PACKAGES:
        for line in planned.css_checks[pkg.name]:
            print(f"css check: {line.replace('`', '')}")
    if args.check:
        diffs = compare(planned, vendor_dir)
        for diff in diffs:
            print(diff)
        if diffs:
            print(f"{vendor_dir}: {len(diffs)} difference(s); run scripts/vendor_assets.py", file=sys.stderr)
            return 1
        print(f"{vendor_dir}: up to date ({len(planned.files)} files)")
        return 0
    write(planned, vendor_dir, PACKAGES)
    print(f"{vendor_dir}: {len(planned.files)} files in place")
    return 0


if __name__ == "__main__":
    sys.exit(main())
