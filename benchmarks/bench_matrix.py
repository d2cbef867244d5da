"""Benchmark (not a test): the caseworker's submission matrix on the ward-scale demo.

Issue 18 item 6 / issue 19. Prints the HTML size and the in-process render time
(WebTest, median wall and CPU time of several loads after a warm-up) of ``/centre/submissions``
for the caseworker of the largest centre, with the default view and a few
variants. A light page through the same stack (``/help/index``) is timed the
same way as the baseline of the run.

    .venv/bin/python benchmarks/bench_matrix.py --db /tmp/matrix-bench.sqlite [--loads 7]

The database is migrated and loaded with the setagaya demo (a few minutes) only
when the file does not exist yet, so before/after runs can share it.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from bench_pages import caseworker_web, in_process_timings, organisations, prepare_database  # noqa: E402

PATHS = ["/help/index", "/centre/submissions", "/centre/submissions?months=12", "/centre/submissions?page=2",
         "/centre/submissions?overdue=1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=pathlib.Path)
    parser.add_argument("--loads", type=int, default=7)
    parser.add_argument("--centre", help="centre code (default: the one with the most facilities)")
    args = parser.parse_args()
    url = f"sqlite:///{args.db}"
    if not args.db.exists():
        print(f"loading the setagaya demo into {args.db} ...", flush=True)
        print(f"  loaded in {prepare_database(url):.0f} s", flush=True)

    centre = args.centre or organisations(url)["centres"][0][0]
    web = caseworker_web(url, f"cw-{centre}-1")

    print(f"caseworker cw-{centre}-1, {args.loads} loads each (median, after one warm-up)")
    # CPU ms (this process's CPU time per request) is the steadier number on a busy machine:
    # the request runs in-process, on this thread, against SQLite.
    print(f"{'path':45} {'HTML bytes':>11} {'rows':>5} {'cells':>6} {'wall ms':>8} {'CPU ms':>7}")
    for path in PATHS:
        page, wall_ms, cpu_ms = in_process_timings(web, path, args.loads)
        rows = len(page.html.select("table.matrix tbody tr"))
        cells = page.text.count("<td")
        print(f"{path:45} {len(page.body):>11,} {rows:>5} {cells:>6} {wall_ms:>8.1f} {cpu_ms:>7.1f}")


if __name__ == "__main__":
    main()
