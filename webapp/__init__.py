"""Mimamori (見守り): facilities report on watched children; the ward's centres see and act.

Nothing runs at import time. The application is composed in :mod:`webapp.config`.
"""
