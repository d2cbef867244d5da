"""A child's timeline (時系列) and attendance calendar for the child's page (F-DASH).

Each source of events (daily attendance, monthly reports, alerts, urgent
reports, messages) is one function in ``sources*.py`` returning
:class:`~webapp.timeline.items.TimelineItem`; the service merges them for one
month. The area sits above every area it reads, and nothing imports it.
"""


def includeme(config):
    config.scan(".views")
