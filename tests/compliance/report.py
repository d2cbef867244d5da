"""The auditor's report of one compliance run: requirement -> mechanism -> tests
-> pass/fail per host, Lynis hardening index and open suggestions per host, and
the checks not run with the reason. Written as JSON and HTML.

    python report.py ENV OUTDIR    (reads OUTDIR/results.json, OUTDIR/lynis/*.dat)
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import inventory
from lynis_reasons import REASONS
from requirements_map import MECHANISMS, NEEDS_VM, VM_GROUP

REPO = Path(__file__).resolve().parents[2]
LYNIS_TARGET = 85


def git(*args) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True).stdout.strip()


def parse_lynis(path: Path) -> dict:
    text = path.read_text(errors="replace") if path.exists() else ""
    index = re.search(r"^hardening_index=(\d+)", text, re.M)
    suggestions = []
    for m in re.finditer(r"^suggestion\[\]=([^|]*)\|([^|]*)\|", text, re.M):
        tid, msg = m[1], m[2]
        suggestions.append({"id": tid, "text": msg,
                            "reason": REASONS.get(tid, "no reason recorded: review")})
    warnings = [{"id": m[1], "text": m[2]}
                for m in re.finditer(r"^warning\[\]=([^|]*)\|([^|]*)\|", text, re.M)]
    note = path.with_suffix(".note")
    return {"hardening_index": int(index[1]) if index else None, "ran": bool(index),
            "note": note.read_text(errors="replace").strip() if note.exists() else None,
            "suggestions": suggestions, "warnings": warnings,
            "lynis_version": (re.search(r"^lynis_version=(.*)$", text, re.M) or [None, None])[1]}


def build(env: str, outdir: Path) -> dict:
    inv = inventory.load(env)
    results = json.loads((outdir / "results.json").read_text())
    reqs: dict[str, dict] = {}
    for r in results:
        for rid in r["requirements"] or ["(none)"]:
            entry = reqs.setdefault(rid, {"id": rid, "mechanism": MECHANISMS.get(rid, ""), "tests": {}})
            t = entry["tests"].setdefault(r["test"], {"test": r["test"], "file": r["file"],
                                                      "doc": r["doc"], "where": {}})
            # The host it ran on, plus any other parameter (e.g. which folder), so
            # no two results of one test on one host overwrite each other.
            params = r["nodeid"].split("[", 1)[1].rstrip("]") if "[" in r["nodeid"] else ""
            extra = params.replace(r["where"], "", 1).strip("-") if r["where"] != "control machine" else params
            key = r["where"] + (f" {extra}" if extra else "")
            t["where"][key] = {"outcome": r["outcome"], "phase": r["phase"], "message": r["message"]}
    vm_hosts = [n.name for n in inv.group(VM_GROUP)]
    for rid, check, test in NEEDS_VM:
        entry = reqs.setdefault(rid, {"id": rid, "mechanism": MECHANISMS.get(rid, ""), "tests": {}})
        ran_on = [k for k in entry["tests"].get(test, {}).get("where", {}) if k.split()[0] in vm_hosts]
        if ran_on:
            continue  # its result is in the tests above, with the host it ran on
        reason = (f"not run: needs a VM host (inventory group {VM_GROUP!r} is empty)" if not vm_hosts
                  else f"not run in this run on {', '.join(vm_hosts)} ({test} left no result)")
        entry.setdefault("not_run", []).append({"check": check, "test": test, "reason": reason})
    for entry in reqs.values():
        outcomes = [w["outcome"] for t in entry["tests"].values() for w in t["where"].values()]
        entry["tests"] = list(entry["tests"].values())
        entry["status"] = ("fail" if "failed" in outcomes else
                           "pass" if outcomes and not entry.get("not_run") else
                           "partial: some checks not run" if outcomes else "not run")
    lynis = {n: parse_lynis(outdir / "lynis" / f"{n}.dat") for n in inv.nodes}
    total = len(results)
    failed = sum(1 for r in results if r["outcome"] == "failed")
    return {
        "title": "Mimamori compliance report",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "inventory": env,
        # Where a check ran matters: containers share the control machine's kernel,
        # so the kernel-level checks ran on the hosts of VM_GROUP only.
        "hosts": {n.name: {"address": n.address, "groups": n.groups,
                           "kind": "VM, own kernel" if VM_GROUP in n.groups
                           else "container, shares the control machine's kernel"}
                  for n in inv.nodes.values()},
        "git_revision": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "summary": {"checks": total, "passed": total - failed, "failed": failed,
                    "not_run": sum(len(e.get("not_run", [])) for e in reqs.values()),
                    "lynis_min_index": min((l["hardening_index"] for l in lynis.values()
                                            if l["hardening_index"] is not None), default=None),
                    "lynis_target": LYNIS_TARGET},
        "requirements": [reqs[k] for k in sorted(reqs)],
        "lynis": lynis,
    }


def to_html(rep: dict) -> str:
    e = html.escape
    s = rep["summary"]
    out = [f"""<!doctype html><html lang="en"><meta charset="utf-8"><title>{e(rep['title'])}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #999;padding:.3em .5em;vertical-align:top;font-size:90%}}
.passed,.pass{{background:#d4f7d4}}.failed,.fail{{background:#f7d4d4}}.notrun{{background:#f7f0c8}}</style>
<h1>{e(rep['title'])}</h1>
<table><tr><th>date</th><td>{e(rep['date'])}</td></tr>
<tr><th>inventory</th><td>{e(rep['inventory'])}</td></tr>
<tr><th>git revision</th><td>{e(rep['git_revision'])}{' (uncommitted changes present)' if rep['git_dirty'] else ''}</td></tr>
<tr><th>checks</th><td>{s['checks']} run: {s['passed']} passed, {s['failed']} failed; {s['not_run']} not run (listed below)</td></tr>
<tr><th>Lynis</th><td>lowest hardening index {s['lynis_min_index']} (target {s['lynis_target']})</td></tr></table>
<h2>Hosts</h2><table><tr><th>host</th><th>address</th><th>kind</th><th>groups</th><th>Lynis index</th></tr>"""]
    for name, h in rep["hosts"].items():
        out.append(f"<tr><td>{e(name)}</td><td>{e(h['address'])}</td><td>{e(h.get('kind', ''))}</td>"
                   f"<td>{e(', '.join(h['groups']))}</td>"
                   f"<td>{rep['lynis'][name]['hardening_index']}</td></tr>")
    out.append("</table><h2>Requirements</h2><table><tr><th>requirement</th><th>mechanism</th>"
               "<th>test</th><th>where it ran: result</th></tr>")
    for r in rep["requirements"]:
        rows = len(r["tests"]) + len(r.get("not_run", []))
        first = True
        for t in r["tests"]:
            cells = " ".join(f"<span class='{w['outcome']}' title='{e(w['message'])}'>{e(k)}: {w['outcome']}</span>"
                             for k, w in t["where"].items())
            head = (f"<td rowspan='{rows}' class='{r['status'].split(':')[0]}'>{e(r['id'])}<br>{e(r['status'])}</td>"
                    f"<td rowspan='{rows}'>{e(r['mechanism'])}</td>") if first else ""
            out.append(f"<tr>{head}<td>{e(t['file'])}::{e(t['test'])}<br><small>{e(t['doc'])}</small></td><td>{cells}</td></tr>")
            first = False
        for n in r.get("not_run", []):
            head = (f"<td rowspan='{rows}' class='notrun'>{e(r['id'])}<br>{e(r['status'])}</td>"
                    f"<td rowspan='{rows}'>{e(r['mechanism'])}</td>") if first else ""
            out.append(f"<tr>{head}<td>{e(n['check'])}</td><td class='notrun'>{e(n['reason'])}</td></tr>")
            first = False
    out.append("</table><h2>Lynis: open suggestions per host</h2>")
    for name, l in rep["lynis"].items():
        out.append(f"<h3>{e(name)}: hardening index {l['hardening_index']}</h3>")
        if not l["ran"]:
            out.append("<p class='failed'>Lynis did not produce a report on this host."
                       f" {e(l.get('note') or '')}</p>")
            continue
        out.append("<table><tr><th>test</th><th>suggestion</th><th>why left open</th></tr>")
        for sg in l["suggestions"]:
            out.append(f"<tr><td>{e(sg['id'])}</td><td>{e(sg['text'])}</td><td>{e(sg['reason'])}</td></tr>")
        for w in l["warnings"]:
            out.append(f"<tr class='failed'><td>{e(w['id'])}</td><td>WARNING: {e(w['text'])}</td><td></td></tr>")
        out.append("</table>")
    out.append("</html>")
    return "\n".join(out)


def main(env: str, outdir: str) -> int:
    d = Path(outdir)
    rep = build(env, d)
    (d / "report.json").write_text(json.dumps(rep, indent=1, ensure_ascii=False))
    (d / "report.html").write_text(to_html(rep))
    s = rep["summary"]
    print(f"compliance {env}: {s['passed']}/{s['checks']} checks passed, {s['failed']} failed, "
          f"{s['not_run']} not run (listed in the report with the reason); Lynis lowest index {s['lynis_min_index']}; "
          f"report {d / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
