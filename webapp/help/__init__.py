"""User-facing help pages (ヘルプ): one Jinja template per topic under templates/help/.

Each area drops its own ``templates/help/<topic>.html``; the index lists every
page found there, so adding a page needs no code change.
"""


def includeme(config):
    config.scan(".views")
