"""Benchmark (not a test; lab only): how long a rolling patch of the whole lab
takes, and how many requests through the VIP fail meanwhile (aim: 0), with the
request rate of an undisturbed loop measured first as the baseline. Needs a
deployed lab (ci/lab/lab up full; ci/deploy lab). Every host gets the lab's
probe package upgraded (tests/lab/patchkit.py), so each host really changes
and restarts a service; the database leader is switched over once.

    .venv-ops/bin/python benchmarks/bench_rolling_patch.py
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lab"))

import labkit  # noqa: E402
import patchkit  # noqa: E402


def main() -> int:
    ca = labkit.acme_root(Path(tempfile.mkdtemp()) / "root.pem")
    with labkit.RequestLoop(ca, timeout=10) as base:
        time.sleep(20)
    b = base.result
    baseline = b.ok / (b.stopped - b.started)
    patchkit.install_v1()
    try:
        with labkit.RequestLoop(ca, timeout=10, max_seconds=3600) as loop:
            # The orchestrator alone: ci/patch would go on to the compliance
            # suite (minutes) to approve the package set, not part of the patch.
            rc, out, seconds = patchkit.run_orchestrator("--limit", ",".join(patchkit.HOSTS))
        r = loop.result
        rate = r.ok / (r.stopped - r.started)
        print(out[-1500:])
        print(f"baseline              rate={baseline:6.1f}/s")
        print(f"rolling patch ({len(patchkit.HOSTS)} hosts) exit={rc} duration_s={seconds:6.0f} "
              f"ok={r.ok} failed={r.failed} unavailable_s={r.unavailable_seconds:5.1f} "
              f"rate={rate:6.1f}/s ({rate / baseline:4.2f}x baseline)")
        if r.errors:
            print("first errors:", r.errors[:10])
        return rc
    finally:
        patchkit.cleanup()


if __name__ == "__main__":
    sys.exit(main())
