"""Page weight and time to first render of each main page in Chromium, on the ward-scale demo.

Not a test: it prints numbers (issue 11, item 5; F-UI "fast on old PCs"). For
each page: the bytes transferred on a cold load (the document and its CSS, as
the Resource Timing API reports them) and the first contentful paint
(``performance.getEntriesByType("paint")``), the median of several warm loads.
A trivial static HTML page served from loopback in the same run is the baseline,
so machines can be compared by the ratio. Aim: under 150 KB and 300 ms a page.

    .venv/bin/python benchmarks/bench_page_weight.py [--loads 5]      # ~2 minutes, most of it the demo load
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from bench_pages import REPO, organisations, prepare_database, serving, write_ini  # noqa: E402

from webapp.demo import DEMO_PASSWORD  # noqa: E402
from webapp.manuals.browser import CHROMIUM, CHROMIUM_ARGS, new_context  # noqa: E402
from webapp.manuals.demo_server import free_port  # noqa: E402

AIM_BYTES = 150 * 1024
AIM_MS = 300
STATIC_PAGE = ('<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>静的ページ</title></head>'
               '<body><h1>見守り</h1><p>比較のための静的なページです。</p></body></html>')

# login -> pages (the facility and centre with the most children: the heaviest lists)
def pages_for(facility: str, caseworker: str) -> dict[str, list[str]]:
    return {
        facility: ["/reports/period/current", "/attendance", "/children", "/urgent", "/urgent/new", "/messages",
                   "/notices", "/help/index", "/help/manual/facility"],
        caseworker: ["/centre/submissions", "/centre/review", "/alerts", "/children", "/urgent", "/messages",
                     "/export/reports.csv"],
        "admin": ["/admin", "/admin/accounts", "/admin/facilities", "/admin/import", "/admin/notices"],
        "auditor": ["/logs/access", "/logs/auth", "/logs/changes"],
    }


_MEASURE = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource");
  const paint = performance.getEntriesByType("paint").find(p => p.name === "first-contentful-paint");
  return {bytes: nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
          html: nav.transferSize, fcp: paint ? paint.startTime : null};
}"""


def measure(context, url: str, loads: int) -> dict:
    """Cold bytes (fresh cache) and the median first contentful paint of ``loads`` warm loads."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.clearBrowserCache")
    page.goto(url)
    page.wait_for_load_state("load")
    cold = page.evaluate(_MEASURE)
    paints = []
    for _ in range(loads):
        # Through a blank page: loading the same URL again may skip painting what the tab already shows
        # (and a fresh background tab may not paint at all).
        page.goto("about:blank")
        page.goto(url)
        page.wait_for_load_state("load")
        found = page.evaluate(_MEASURE)
        if found["fcp"] is not None:
            paints.append(found["fcp"])
    page.close()
    return {"bytes": cold["bytes"], "html": cold["html"], "fcp": statistics.median(paints) if paints else float("nan")}


def log_in(context, login: str):
    page = context.new_page()
    page.goto("/login")
    page.locator("#login").fill(login)
    page.locator("#password").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("#password").press("Enter")
    assert "/login" not in page.url, f"could not log in as {login}"
    page.close()


def row(label: str, found: dict, baseline: dict) -> str:
    # Chromium now and then reports no paint entry for a load (n/a): judged on bytes alone then.
    painted = found["fcp"] == found["fcp"]
    ok = "ok" if found["bytes"] <= AIM_BYTES and (not painted or found["fcp"] <= AIM_MS) else "OVER"
    fcp = f"{found['fcp']:8.0f}" if painted else f"{'n/a':>8}"
    ratio = f"{found['fcp'] / baseline['fcp']:6.1f}x" if painted else f"{'n/a':>7}"
    return (f"{label:<44} {found['bytes'] / 1024:8.1f} {found['html'] / 1024:8.1f} {fcp} "
            f"{found['bytes'] / baseline['bytes']:7.1f}x {ratio}  {ok}")


def main(argv=None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loads", type=int, default=5, help="warm loads per page for the paint median")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mimamori-bench-weight-") as tmp:
        directory = pathlib.Path(tmp)
        url = f"sqlite:///{directory}/bench.sqlite"
        print(f"loading the setagaya demo: {prepare_database(url):.0f} s")
        orgs = organisations(url)
        facility = orgs["facilities"][0][0]
        caseworker = f"cw-{orgs['centres'][0][0]}-1"
        port, static_port = free_port(), free_port()
        (directory / "static").mkdir()
        (directory / "static" / "index.html").write_text(STATIC_PAGE, encoding="utf-8")
        ini = write_ini(directory, url, port)
        app = [sys.executable, "-m", "webapp.cli", "-c", str(ini), "serve"]
        static = [sys.executable, "-m", "http.server", str(static_port), "--bind", "127.0.0.1",
                  "--directory", str(directory / "static")]
        with contextlib.ExitStack() as stack:
            stack.enter_context(serving(app, port, directory / "app.log", "/healthz"))
            stack.enter_context(serving(static, static_port, directory / "static.log", "/"))
            playwright = stack.enter_context(sync_playwright())
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            stack.callback(browser.close)
            plain = new_context(browser, f"http://127.0.0.1:{static_port}")
            baseline = measure(plain, f"http://127.0.0.1:{static_port}/index.html", args.loads)
            print(f"\nChromium {browser.version}, {args.loads} warm loads a page; aim: "
                  f"≤ {AIM_BYTES // 1024} KB and first paint ≤ {AIM_MS} ms\n")
            print(f"{'page (login)':<44} {'KB cold':>8} {'KB html':>8} {'FCP ms':>8} {'bytes':>8} {'FCP':>7}")
            print(row("static page (baseline)", baseline, baseline))
            worst_bytes = worst_fcp = 0.0
            for login, paths in pages_for(facility, caseworker).items():
                context = new_context(browser, f"http://127.0.0.1:{port}")
                log_in(context, login)
                for path in paths:
                    found = measure(context, f"http://127.0.0.1:{port}{path}", args.loads)
                    worst_bytes = max(worst_bytes, found["bytes"])
                    if found["fcp"] == found["fcp"]:
                        worst_fcp = max(worst_fcp, found["fcp"])
                    print(row(f"{path} ({login})", found, baseline))
                context.close()
            print(f"\nheaviest page {worst_bytes / 1024:.1f} KB, slowest first paint {worst_fcp:.0f} ms "
                  f"(baseline {baseline['fcp']:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
