"""The register of children under watch, and who may see which (scope.py)."""


def includeme(config):
    config.scan(".views")
