"""Change records (S-AUDIT): who changed what, when, before and after; who viewed which child.

Every flush of every session writes, in the same transaction, one record per
created, changed or deleted row. Records are append-only (database triggers;
on PostgreSQL also the application role's grants) and hash-chained, so
``mimamori audit verify`` finds any record edited, removed or reordered.
"""


def includeme(config):
    from webapp.audit.recorder import install_recorder

    install_recorder(config.registry["db.session_factory"])
    # Default placement: just above the view, inside pyramid_tm's transaction.
    config.add_tween("webapp.audit.views_recorded.view_recording_tween_factory")
