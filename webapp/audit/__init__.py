"""Change records (S-AUDIT): who changed what, when, before and after; who viewed which child.

Every flush of every session writes, in the same transaction, one record per
created, changed or deleted row. Records are append-only (database triggers;
on PostgreSQL also the application role's grants) and hash-chained, so
``mimamori audit verify`` finds any record edited, removed or reordered.
"""


def includeme(config):
    from webapp.audit.access import configure_stdout_logger
    from webapp.audit.recorder import install_recorder

    # The access log wraps the request transaction, so it records requests
    # whose transaction failed, and writes its row in a transaction of its own.
    configure_stdout_logger()
    config.add_tween("webapp.audit.access.access_log_tween_factory", over="pyramid_tm.tm_tween_factory")

    # BENCHMARK ONLY: ``mimamori.change_records = false`` turns off change
    # records and view records, so benchmarks/bench_audit_overhead.py can
    # measure what they cost. Never set it anywhere else: S-AUDIT requires them.
    if config.get_settings().get("mimamori.change_records", "true") != "false":
        install_recorder(config.registry["db.session_factory"])
        # Inside pyramid_tm's transaction (an implicit tween added after pyramid_tm
        # would sit outside it, where request.db is already closed).
        config.add_tween("webapp.audit.views_recorded.view_recording_tween_factory",
                         under="pyramid_tm.tm_tween_factory")

    # The log viewer for admins and auditors.
    config.scan(".views")
