"""Benchmark (not a test): failed requests and seconds of unavailability when an
app node and when the VIP-holding load balancer stop, with the request rate of
an undisturbed loop measured in the same run as the baseline. Destructive:
leaves lb1 stopped. Run by ci/lab/bench."""

import sys
import tempfile
import time
from pathlib import Path

import labkit


def loop_for(ca: str, seconds: float, action=None, timeout: float = 3.0) -> labkit.LoopResult:
    with labkit.RequestLoop(ca, timeout=timeout) as loop:
        time.sleep(2)
        if action:
            action()
        time.sleep(seconds)
    return loop.result


def report(label: str, r: labkit.LoopResult, baseline_rate: float) -> None:
    rate = r.ok / (r.stopped - r.started)
    print(f"{label:<28} ok={r.ok:<5} failed={r.failed:<3} unavailable_s={r.unavailable_seconds:5.1f}"
          f"  rate={rate:6.1f}/s ({rate / baseline_rate:4.2f}x baseline)")


def main() -> int:
    ca = labkit.acme_root(Path(tempfile.mkdtemp()) / "root.pem")
    base = loop_for(ca, 8)
    base_rate = base.ok / (base.stopped - base.started)
    report("baseline (no failure)", base, base_rate)

    app = loop_for(ca, 8, lambda: labkit.lab("stop", "app1"))
    report("app node loss (app1)", app, base_rate)
    labkit.lab("start", "app1")
    labkit.wait_for(lambda: labkit.haproxy_servers(labkit.vip_holder())["app1"] == "UP", 60)

    crash = loop_for(ca, 8, lambda: labkit.lab("kill", "app2"))
    report("app node crash (app2 killed)", crash, base_rate)
    labkit.lab("start", "app2")
    labkit.wait_for(lambda: labkit.haproxy_servers(labkit.vip_holder())["app2"] == "UP", 60)

    lb = loop_for(ca, 10, lambda: labkit.lab("stop", "lb1"), timeout=1.5)
    report("load balancer loss (lb1)", lb, base_rate)

    # lb1 comes back and, with the higher priority, takes the VIP back; then it crashes.
    labkit.lab("start", "lb1")
    labkit.wait_for(lambda: labkit.has_vip("lb1"), 60)
    time.sleep(3)
    crash = loop_for(ca, 10, lambda: labkit.lab("kill", "lb1"), timeout=1.5)
    report("load balancer crash (lb1)", crash, base_rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
