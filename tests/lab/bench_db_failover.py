"""Benchmark (not a test): seconds without write service and acknowledged
writes lost for each database drill (switchover, leader's Patroni stopped,
leader host killed, leader's link cut 60 s). Needs a deployed lab; leaves the
cluster whole with the leader possibly moved. Run by ci/lab/bench."""

import sys

import dbdrill


def main() -> int:
    dbdrill.prepare_table()
    for drill in (dbdrill.switchover, dbdrill.patroni_stop, dbdrill.host_kill,
                  dbdrill.partition):
        d = drill()
        print(d.line(), flush=True)
        if d.old_primary_at or d.new_primary_at:
            print(f"{'':<26} old primary until {max(d.old_primary_at, default=float('nan')):.1f} s,"
                  f" new primary from {min(d.new_primary_at, default=float('nan')):.1f} s after the cut")
    return 0


if __name__ == "__main__":
    sys.exit(main())
