"""Centres (子ども家庭支援センター, 児童相談所) and facilities (schools, nurseries…)."""


def includeme(config):
    config.scan(".views")
