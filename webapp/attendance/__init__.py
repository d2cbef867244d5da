"""Daily attendance (日々の出欠, F-DAILY): the facility enters a day, the centre reads it.

Entries are kept per child and day with every correction as a version
(``models``); ``services`` save a whole day at once and answer for the
centre through the children scope.
"""


def includeme(config):
    config.scan(".views")
    config.scan(".closure_views")
