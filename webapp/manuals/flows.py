"""The registry of every role's flows: what the manuals, their builder and the walkthrough tests list.

It sits beside the walkthrough machinery (``walkthrough``), not inside it: the flows import
``Flow`` and ``Step`` from there, and only this module imports the flows.
"""

from __future__ import annotations

from webapp.manuals import flows_admin, flows_centre, flows_facility
from webapp.manuals.walkthrough import Flow


def all_flows() -> tuple[Flow, ...]:
    return flows_facility.FLOWS + flows_centre.FLOWS + flows_admin.FLOWS


def flows_for(role: str) -> tuple[Flow, ...]:
    return tuple(flow for flow in all_flows() if flow.role == role)


def flow_by_slug(slug: str) -> Flow:
    for flow in all_flows():
        if flow.slug == slug:
            return flow
    raise KeyError(slug)
