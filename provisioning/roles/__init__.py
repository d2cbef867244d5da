"""Roles of the appliance, each a pyinfra ``@deploy`` function in its own module
with its templates beside it. ``deploy.py`` applies them by inventory group."""
