"""CSV import of centres, facilities, accounts and children: dry run, all-or-nothing."""


def includeme(config):
    config.scan(".views")
