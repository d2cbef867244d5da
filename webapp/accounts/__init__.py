"""Accounts, passwords and login sessions."""


def includeme(config):
    config.scan(".views")
    config.scan(".second_factor_views")
