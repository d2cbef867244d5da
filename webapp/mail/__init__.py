"""Email (F-NOTIFY): fixed templates without personal data, an outbox table, SMTP delivery with retries.

Other areas queue mail with ``request.find_service(MailOutbox).enqueue(...)``
in their own transaction; ``mimamori jobs run`` delivers it.
"""


def includeme(config):
    from webapp.mail.services import MailOutbox, MailSettings

    # Parsed once at start-up, so a bad SMTP setting stops the app from starting.
    mail_settings = MailSettings.from_settings(config.get_settings())
    config.registry["mail.settings"] = mail_settings
    config.register_service_factory(
        lambda _context, request: MailOutbox(request.db, mail_settings, request.clock), MailOutbox
    )
    # The admin's outbox page (routes in webapp/routes.py).
    config.scan(".views")
