"""Build the manuals' screenshots, the videos and the printable PDFs from the walkthroughs.

    python -m webapp.manuals.build [--role facility ...] [--no-videos] [--no-pdf]
    (also ``mimamori -c INI manuals build`` and ``bash ci/manuals``)

Starts a throwaway demo server, walks every flow in Debian's Chromium taking a
screenshot after each step, turns each flow's screenshots into a captioned video
(ffmpeg) and prints each role's manual page to PDF (Chromium's page.pdf). The
output goes to ``webapp/static/manuals`` (not committed: regenerated whenever the
screens change, so the pictures can never be older than the code).
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import subprocess
import sys
import time

from webapp.manuals import media
from webapp.manuals.flows import flows_for
from webapp.manuals.walkthrough import ROLES, run_flow

PDF_LOGIN = "auditor"  # any account may read every manual; the auditor changes nothing
PDF_FOOTER = ('<div style="font-size:9px;width:100%;text-align:center;color:#555">'
              '見守り 操作マニュアル — <span class="pageNumber"></span> / <span class="totalPages"></span></div>')
_IMAGES_LOADED = """() => Promise.all(Array.from(document.images).map(img => {
  img.loading = "eager";
  return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
}))"""


def compact_png(path: pathlib.Path) -> None:
    """Re-encode a screenshot with a 64-colour palette: a third of the size, the same to the eye (flat UI colours)."""
    tmp = path.with_suffix(".tmp.png")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(path), "-vf",
                    "split[a][b];[a]palettegen=max_colors=64:reserve_transparent=0[p];[b][p]paletteuse=dither=none",
                    str(tmp)], check=True, timeout=120)
    tmp.replace(path)


def shoot_flow(browser, url: str, flow, out: pathlib.Path) -> list[tuple[pathlib.Path, str]]:
    """Walk ``flow`` taking a screenshot after every step; returns (screenshot, caption) pairs."""
    from webapp.manuals.browser import new_context

    frames = []

    def after_step(flow, index, step, page):
        path = out / media.image_name(flow.slug, index)
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path))
        compact_png(path)
        frames.append((path, step.caption))

    context = new_context(browser, url)
    try:
        run_flow(flow, context.new_page(), url, after_step)
    finally:
        context.close()
    return frames


def write_pdf(browser, url: str, role: str, path: pathlib.Path) -> None:
    """Print ``/help/manual/<role>`` (as the app serves it, with whatever pictures exist) to A4 PDF."""
    from webapp.manuals.browser import new_context
    from webapp.manuals.walkthrough import DEMO_PASSWORD

    context = new_context(browser, url)
    try:
        page = context.new_page()
        page.goto("/login")
        page.locator("#login").fill(PDF_LOGIN)
        page.locator("#password").fill(DEMO_PASSWORD)
        with page.expect_navigation():
            page.locator("#password").press("Enter")
        page.goto(f"/help/manual/{role}")
        page.evaluate(_IMAGES_LOADED)
        path.parent.mkdir(parents=True, exist_ok=True)
        page.pdf(path=str(path), format="A4", print_background=True, display_header_footer=True,
                 header_template="<span></span>", footer_template=PDF_FOOTER,
                 margin={"top": "15mm", "bottom": "18mm", "left": "15mm", "right": "15mm"})
    finally:
        context.close()


def build(roles=ROLES, videos: bool = True, pdfs: bool = True, out: pathlib.Path = media.MANUALS_DIR,
          log=print) -> None:
    from playwright.sync_api import sync_playwright

    from webapp.manuals.browser import CHROMIUM, CHROMIUM_ARGS
    from webapp.manuals.demo_server import demo_server
    from webapp.manuals.video import make_video

    for kind in ("img", "video", "pdf"):
        # Start clean: a removed step must not leave its old picture behind.
        shutil.rmtree(out / kind, ignore_errors=True)
    started = time.monotonic()
    with demo_server() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for role in roles:
            for flow in flows_for(role):
                frames = shoot_flow(browser, url, flow, out)
                log(f"{flow.slug}: {len(frames)} screenshots")
                if videos:
                    seconds = make_video(frames, out / media.video_name(flow.slug))
                    log(f"{flow.slug}: video {seconds:.1f} s")
        if pdfs:
            # After every screenshot exists, so the PDFs show them.
            for role in roles:
                write_pdf(browser, url, role, out / media.pdf_name(role))
                log(f"manual-{role}.pdf")
        browser.close()
    log(f"manuals built in {time.monotonic() - started:.0f} s into {out}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="mimamori manuals build", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    run(args)
    return 0


def add_arguments(parser) -> None:
    parser.add_argument("--role", action="append", choices=ROLES, help="only this role's manual (repeatable)")
    parser.add_argument("--no-videos", action="store_true", help="screenshots and PDFs only")
    parser.add_argument("--no-pdf", action="store_true", help="no PDFs")


def run(args) -> None:
    build(roles=tuple(args.role or ROLES), videos=not args.no_videos, pdfs=not args.no_pdf)


if __name__ == "__main__":
    sys.exit(main())
