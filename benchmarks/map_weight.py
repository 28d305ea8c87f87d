"""Weight and draw time of the whole-Land maps: what a first view downloads, and when it is drawn.

    .venv/bin/python benchmarks/map_weight.py [--url http://127.0.0.1:8000] [--runs 3]
                                              [--shots DIR] [--pages /map/prevention-thueringen …]

Starts `mapservice serve` (2 workers) over a new store of the shipped data unless ``--url``
names a running one, and opens each page in headless Chromium (tests/browser.py) with an
empty browser cache. For each page it prints:

- kB: the transfer of the first view, from the Performance API (navigation entry plus every
  resource: ``transferSize``, headers included; ``encodedBodySize`` is the gzip body alone);
- ms: from the start of navigation to the first animation frame after the page said it is
  drawn (``window.mapReady``) and the orientation outlines are in (``dsmContext.ready``),
  measured by a script put into the page before its own (the median of ``--runs`` loads; the
  first, cold, load of each page on the server is not counted);
- paths: the SVG paths Leaflet drew.

Target (issue 16, point 4): under 150 kB and 1000 ms. ``--shots DIR`` also saves screenshots
at 1280 and 320 px wide, German and English.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

PAGES = (
    "/map/prevention-thueringen",
    "/map/prevention-sachsen",
    "/planner?area=land-16",
    "/planner?area=land-14",
)
SHOT_PAGES = {"thueringen": "/map/prevention-thueringen", "planner-land-16": "/planner?area=land-16"}

# Put into every document before its scripts: notes the time of the first frame after the map
# reported itself drawn, so the figure includes painting and not the polling of this script.
DRAWN_HOOK = """
(() => {
  const tick = () => {
    const context = window.dsmContext;
    if (window.mapReady === true && (!context || context.ready)) {
      window.__readyMs = performance.now();
      requestAnimationFrame(() => { window.__drawnMs = performance.now(); });
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""
TRANSFER = """
const nav = performance.getEntriesByType('navigation')[0];
const res = performance.getEntriesByType('resource');
const all = [nav, ...res];
return {
  transfer: all.reduce((s, e) => s + e.transferSize, 0),
  encoded: all.reduce((s, e) => s + e.encodedBodySize, 0),
  decoded: all.reduce((s, e) => s + e.decodedBodySize, 0),
  entries: all.map(e => [e.name, e.transferSize, e.encodedBodySize, e.startTime, e.responseEnd]),
};
"""
DONE = "window.__drawnMs !== undefined"


def measure(browser: object, url: str) -> dict[str, object]:
    from browser import Browser

    assert isinstance(browser, Browser)
    browser.driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    browser.load(url, wait_for_js=DONE, timeout=60)
    browser.settle(quiet=0.5)
    weight = browser.js(TRANSFER)
    return {
        **weight,
        "ms": float(browser.js("return window.__drawnMs")),
        # When the scripts were done, and when the polygons had arrived: what the time went on.
        "ready_ms": float(browser.js("return window.__readyMs")),
        "data_ms": float(
            browser.js(
                "return Math.max(0, ...performance.getEntriesByType('resource')"
                ".filter(e => e.name.includes('/api/coverage/')).map(e => e.responseEnd))"
            )
        ),
        "paths": int(browser.js("return document.querySelectorAll('.leaflet-overlay-pane path').length")),
    }


def shots(browser: object, base: str, folder: Path, tag: str) -> list[Path]:
    from browser import Browser

    assert isinstance(browser, Browser)
    saved = []
    for width in (1280, 320):
        browser.driver.set_window_size(width, 900)
        for name, path in SHOT_PAGES.items():
            for lang in ("de", "en"):
                sep = "&" if "?" in path else "?"
                url = base + path + (f"{sep}lang=en" if lang == "en" else "")
                browser.load(url, wait_for_js=DONE, timeout=60)
                browser.settle(quiet=0.5)
                # The map at the top of the viewport: that is what is being looked at.
                browser.js("var m = document.querySelector('.folium-map'); if (m) m.scrollIntoView();")
                saved.append(browser.screenshot(folder / f"{name}-{lang}-{width}-{tag}.png"))
    browser.driver.set_window_size(1280, 900)
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server (default: start one over a new store)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", nargs="+", default=list(PAGES))
    parser.add_argument("--shots", type=Path, help="save screenshots in this folder")
    parser.add_argument("--tag", default="after", help="suffix of the screenshot names")
    parser.add_argument("--entries", action="store_true", help="print every resource")
    parser.add_argument("--verbose", action="store_true", help="print when data came and scripts were done")
    args = parser.parse_args()

    from browser import Browser

    server = None
    base = args.url
    if base is None:
        import serve

        instance = tempfile.mkdtemp(prefix="map-weight-")
        server, port = serve.start(instance)
        base = f"http://127.0.0.1:{port}"
    browser = Browser.start()
    try:
        browser.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": DRAWN_HOOK})
        print(f"{'page':32} {'kB':>7} {'gzip kB':>8} {'raw kB':>8} {'ms':>7} {'min-max ms':>13} {'paths':>6}")
        for page in args.pages:
            measure(browser, base + page)  # the server's first build of this page is not counted
            runs = [measure(browser, base + page) for _ in range(args.runs)]
            times = [float(r["ms"]) for r in runs]  # type: ignore[arg-type]
            last = runs[-1]
            print(
                f"{page:32} {int(last['transfer']) / 1000:7.1f} {int(last['encoded']) / 1000:8.1f} "  # type: ignore[call-overload]
                f"{int(last['decoded']) / 1000:8.1f} {statistics.median(times):7.0f} "  # type: ignore[call-overload]
                f"{min(times):6.0f}-{max(times):<6.0f} {last['paths']:>6}"
            )
            if args.verbose:
                for r in runs:
                    print(
                        f"    data in at {r['data_ms']:.0f} ms, scripts done {r['ready_ms']:.0f}, "
                        f"drawn {r['ms']:.0f}"
                    )
            if args.entries:
                for name, transfer, encoded, start, end in last["entries"]:  # type: ignore[attr-defined]
                    print(
                        f"    {transfer / 1000:7.1f} {encoded / 1000:7.1f} {start:6.0f}-{end:<6.0f} ms  "
                        f"{name.removeprefix(base)}"
                    )
        if args.shots:
            for path in shots(browser, base, args.shots, args.tag):
                print(path)
    finally:
        browser.close()
        if server is not None:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
