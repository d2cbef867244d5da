"""Accounts, passwords and login sessions."""


def includeme(config):
    config.scan(".views")
