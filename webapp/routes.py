"""Every URL of the application, in one place. ``tests/unit/test_routes.py`` pins this list.

Admin pages all live under ``/admin`` so the load balancer and the app can
restrict them to the ward office's addresses with one prefix rule (S-ADMINIP).

An id in a path beyond a database integer (2**31 - 1) is no page of ours:
:func:`refuse_ids_beyond_the_database` answers 404 before any view passes it
to a query, which PostgreSQL refuses and SQLite overflows on.
"""

from pyramid.events import ContextFound
from pyramid.httpexceptions import HTTPNotFound

MAX_ID = 2**31 - 1


def refuse_ids_beyond_the_database(event) -> None:
    for value in (event.request.matchdict or {}).values():
        if isinstance(value, str) and value.isascii() and value.isdigit() and (len(value) > 10 or int(value) > MAX_ID):
            raise HTTPNotFound()


def includeme(config):
    config.add_subscriber(refuse_ids_beyond_the_database, ContextFound)
    config.add_static_view("static", "webapp:static", cache_max_age=3600)

    # Anonymous
    config.add_route("healthz", "/healthz")
    config.add_route("login", "/login")
    config.add_route("logout", "/logout")
    config.add_route("locale", "/locale/{code}")

    # Second step of login for accounts with a second factor (session pending)
    config.add_route("login.second_factor", "/login/verify")

    # Everyone logged in
    config.add_route("home", "/")
    config.add_route("account.password", "/account/password")
    config.add_route("account.second_factor", "/account/second-factor")

    # Logs for admins and auditors (S-ACCESSLOG, S-AUDIT); ?format=csv exports
    config.add_route("logs.access", "/logs/access")
    config.add_route("logs.auth", "/logs/auth")
    config.add_route("logs.changes", "/logs/changes")

    # Facility staff: the home (today's to-do), the month's report list and the report form
    config.add_route("facility.today", "/today")
    config.add_route("facility.period", "/reports/period/{period}")
    config.add_route("facility.report_edit", "/reports/period/{period}/children/{child_id:\\d+}")
    config.add_route("facility.report_next", "/reports/period/{period}/next")

    # Any role allowed to see the report (scoped): a report and its versions
    config.add_route("report.detail", "/reports/{report_id:\\d+}")
    config.add_route("report.version", "/reports/{report_id:\\d+}/versions/{number:\\d+}")
    # Centre: acknowledge or return
    config.add_route("report.acknowledge", "/reports/{report_id:\\d+}/acknowledge")
    config.add_route("report.return", "/reports/{report_id:\\d+}/return")

    # Centre: submission matrix, one facility's month, reports waiting for review
    config.add_route("centre.matrix", "/centre/submissions")
    config.add_route("centre.facility_period", "/centre/facilities/{facility_id:\\d+}/{period}")
    config.add_route("centre.review_queue", "/centre/review")
    config.add_route("centre.review_bulk", "/centre/review/bulk")

    # Children (scoped): list, page with report history, register, edit
    config.add_route("children.list", "/children")
    config.add_route("children.new", "/children/new")
    config.add_route("child.detail", "/children/{child_id:\\d+}")
    config.add_route("child.edit", "/children/{child_id:\\d+}/edit")

    # Export (scoped)
    config.add_route("export.reports", "/export/reports.csv")

    # Ward admin (S-ADMINIP: everything under /admin)
    config.add_route("admin.home", "/admin")
    config.add_route("admin.centres", "/admin/centres")
    config.add_route("admin.centre_new", "/admin/centres/new")
    config.add_route("admin.centre_edit", "/admin/centres/{centre_id:\\d+}")
    config.add_route("admin.facilities", "/admin/facilities")
    config.add_route("admin.facility_new", "/admin/facilities/new")
    config.add_route("admin.facility_edit", "/admin/facilities/{facility_id:\\d+}")
    config.add_route("admin.accounts", "/admin/accounts")
    config.add_route("admin.account_new", "/admin/accounts/new")
    config.add_route("admin.account_edit", "/admin/accounts/{account_id:\\d+}")
    config.add_route("admin.account_reset", "/admin/accounts/{account_id:\\d+}/reset-password")
    config.add_route("admin.account_unlock", "/admin/accounts/{account_id:\\d+}/unlock")
    config.add_route("admin.account_reset_second_factor", "/admin/accounts/{account_id:\\d+}/reset-second-factor")
    config.add_route("admin.import", "/admin/import")
    config.add_route("admin.mail", "/admin/mail")
    config.add_route("admin.mail_requeue", "/admin/mail/requeue")

    # Help pages for every logged-in role (templates/help/<topic>.html; "index" lists them)
    config.add_route("help", "/help/{topic}")
    # Operation manuals per role, made from the walkthroughs (F-HELP; webapp/manuals)
    config.add_route("help.manual", "/help/manual/{role}")

    # Daily attendance (F-DAILY): facility staff (their facility) and admin enter a day;
    # a child's last 60 days for every role that may see the child
    config.add_route("attendance.home", "/attendance")
    config.add_route("attendance.day", "/attendance/facilities/{facility_id:\\d+}/{day}")
    config.add_route("attendance.child", "/attendance/children/{child_id:\\d+}")
    # Centre: a facility's day, read-only
    config.add_route("centre.attendance_day", "/centre/facilities/{facility_id:\\d+}/attendance/{day}")
    # Facility staff (their facility) and admin: closures and extra open days
    config.add_route("closures.list", "/facilities/{facility_id:\\d+}/closures")
    config.add_route("closures.delete", "/facilities/{facility_id:\\d+}/closures/delete")

    # Centre: alerts raised by the absence sweep (scoped), acknowledge and resolve
    config.add_route("alerts.list", "/alerts")
    config.add_route("alert.detail", "/alerts/{alert_id:\\d+}")
    config.add_route("alert.acknowledge", "/alerts/{alert_id:\\d+}/acknowledge")
    config.add_route("alert.resolve", "/alerts/{alert_id:\\d+}/resolve")

    # A child's timeline and attendance calendar, one month a page (F-DASH; scoped)
    config.add_route("child.timeline", "/children/{child_id:\\d+}/timeline")

    # Urgent reports (F-URGENT): facility files, both sides see (scoped), centre handles
    config.add_route("urgent.list", "/urgent")
    config.add_route("urgent.new", "/urgent/new")
    config.add_route("urgent.detail", "/urgent/{urgent_id:\\d+}")
    config.add_route("urgent.acknowledge", "/urgent/{urgent_id:\\d+}/acknowledge")
    config.add_route("urgent.respond", "/urgent/{urgent_id:\\d+}/respond")
    config.add_route("urgent.close", "/urgent/{urgent_id:\\d+}/close")

    # Message threads per child (F-MSG, scoped): the list of threads and one child's thread
    config.add_route("messages.list", "/messages")
    config.add_route("child.messages", "/children/{child_id:\\d+}/messages")

    # Notices (F-NOTICE, O-247): facilities read them; the ward writes them under /admin
    config.add_route("notices.list", "/notices")
    config.add_route("notice.detail", "/notices/{notice_id:\\d+}")
    config.add_route("admin.notices", "/admin/notices")
    config.add_route("admin.notice_new", "/admin/notices/new")
    config.add_route("admin.notice_edit", "/admin/notices/{notice_id:\\d+}")
    # Siblings (F-SIB) and the April roll-over (F-ROLLOVER), ward admin only
    config.add_route("admin.child_siblings", "/admin/children/{child_id:\\d+}/siblings")
    config.add_route("admin.rollover", "/admin/rollover")
