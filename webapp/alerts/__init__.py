"""Alerts (F-ALERT): absence streaks today; the alert table, lifecycle and sweep come later.

``webapp.alerts.streaks`` holds the counting rules as pure functions over
dates and enums, so the periodic sweep (``mimamori jobs run``) and the tests
call the same code. This area sits above ``reports`` and uses ``calendar``.
"""
