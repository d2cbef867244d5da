"""/help/manual/<role>: a role's manual, rendered from the walkthroughs' titles and captions.

Screenshots, videos and PDFs are made by ``mimamori manuals build`` into
``webapp/static/manuals``; whichever of them exist are shown, and the text
stands on its own when none do (the page then says how to make them).
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from webapp.authz import Permission
from webapp.manuals import media
from webapp.manuals.flows import flows_for
from webapp.manuals.walkthrough import ROLES


@view_config(route_name="help.manual", permission=Permission.ACCOUNT_SELF, request_method="GET",
             renderer="manuals/manual.html")
def manual_page(request):
    role = request.matchdict["role"]
    if role not in ROLES:
        raise HTTPNotFound()
    flows = []
    for flow in flows_for(role):
        steps = [
            {"caption": step.caption, "image": media.static_path(media.image_name(flow.slug, index)),
             "start": start}
            for (index, step), start in zip(enumerate(flow.steps, start=1), media.caption_starts(flow))
        ]
        flows.append({"flow": flow, "steps": steps, "video": media.static_path(media.video_name(flow.slug))})
    has_media = any(step["image"] for item in flows for step in item["steps"])
    return {"role": role, "flows": flows, "pdf": media.static_path(media.pdf_name(role)), "has_media": has_media,
            "roles": ROLES}
