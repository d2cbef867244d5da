"""The facility's home: today's to-do (今日やること, F-UI, issue #18 item 4).

Reads attendance, reports, messages and notices, so it sits above them like
the timeline, and nothing imports it. Login lands here for facility staff
(``webapp.views.home``); the month's report list stays one click away.
"""


def includeme(config):
    config.scan(".views")
