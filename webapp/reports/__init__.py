"""Monthly reports: facility drafts and submits, the centre acknowledges or returns."""


def includeme(config):
    config.scan(".views")
