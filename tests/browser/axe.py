"""axe-core from the npm registry, pinned and checked, run inside Chromium (F-UI: WCAG 2.1 AA).

``npm pack`` fetches the published tarball once into ``.cache/`` (npm checks the
registry's integrity hash; we check our own pinned SHA-256 on top), and only
``axe.min.js`` is read from it. Nothing from npm is committed.
"""

from __future__ import annotations

import hashlib
import pathlib
import subprocess
import tarfile
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[2]
AXE_VERSION = "4.10.3"
AXE_SHA256 = "0f2b4d7dcdf7d1219df8d1959ad68e565f51d14c3f0d88bb71cd59abeb956292"
CACHE = REPO / ".cache" / f"axe-core-{AXE_VERSION}"
# JIS X 8341-3:2016 follows WCAG 2.0; the ward asks for WCAG 2.1 AA.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}


def axe_source() -> str:
    script = CACHE / "axe.min.js"
    if not script.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["npm", "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", tmp, "--silent"],
                           check=True, capture_output=True, timeout=300)
            tarball = pathlib.Path(tmp) / f"axe-core-{AXE_VERSION}.tgz"
            digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
            if digest != AXE_SHA256:
                raise RuntimeError(f"axe-core {AXE_VERSION} tarball has SHA-256 {digest}, expected {AXE_SHA256}")
            with tarfile.open(tarball) as archive:
                member = archive.extractfile("package/axe.min.js")
                script.write_bytes(member.read())
    return script.read_text(encoding="utf-8")


_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      targets: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
}"""


def violations(page, source: str) -> list[dict]:
    """Serious and critical WCAG 2.1 A/AA violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=source)
    found = page.evaluate(_RUN, TAGS)
    return [dict(v, url=page.url) for v in found if v["impact"] in FAILING_IMPACTS]


# Every visible form control has a name a screen reader reads: a <label>, aria-label or aria-labelledby.
_UNLABELLED = """() => Array.from(document.querySelectorAll("input, select, textarea"))
  .filter(el => !["hidden", "submit", "button", "reset"].includes(el.type))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
  .map(el => el.outerHTML.slice(0, 120))"""


def unlabelled_fields(page) -> list[str]:
    return page.evaluate(_UNLABELLED)
