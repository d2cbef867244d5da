"""Walkthroughs of every role's main flows, and the manuals and videos made from them (F-HELP).

``walkthrough`` describes each flow as named steps with a Japanese caption; the
same steps drive the browser tests (tests/browser/test_walkthroughs.py), the
screenshots and printable PDFs of the manuals and the explanatory videos
(``mimamori manuals build``), so the manuals cannot fall behind the screens.
The app serves the manuals as help pages (``views``); the generated pictures,
videos and PDFs are optional there.
"""


def includeme(config):
    config.scan(".views")
