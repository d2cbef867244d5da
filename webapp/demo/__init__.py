"""Generated demo data (``mimamori demo-data``): no real person, facility or report.

One area of its own, above the domain areas whose rows it generates and below the
composition root (the CLI) and the manuals, which log in with its password:

- ``loader``: :func:`load` — centres, facilities, accounts and children, then the parts below;
- ``reports``, ``attendance``, ``alerts``, ``urgent``, ``notices``: each area's generated rows;
- ``names``: random combinations of common name parts; ``bulk``: the batched inserts (COPY on PostgreSQL).
"""

from webapp.demo.loader import (
    ALONGSIDE_CASEWORKERS_PER_CENTRE,
    DEMO_PASSWORD,
    DemoDataRefused,
    describe_every_login,
    describe_logins,
    load,
)

__all__ = ["ALONGSIDE_CASEWORKERS_PER_CENTRE", "DEMO_PASSWORD", "DemoDataRefused",
           "describe_every_login", "describe_logins", "load"]
