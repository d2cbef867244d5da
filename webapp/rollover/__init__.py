"""The April roll-over (年度更新, F-ROLLOVER): grades up, graduations, transfers; admin screen and CLI."""


def includeme(config):
    config.scan(".views")
