"""Imports every area's models so that ``Base.metadata`` is complete (for alembic)."""

from webapp.accounts import models as accounts_models  # noqa: F401
from webapp.alerts import models as alerts_models  # noqa: F401
from webapp.attendance import models as attendance_models  # noqa: F401
from webapp.audit import models as audit_models  # noqa: F401
from webapp.children import models as children_models  # noqa: F401
from webapp.children import siblings as siblings_models  # noqa: F401
from webapp.closed_days import models as closed_days_models  # noqa: F401
from webapp.jobs import models as jobs_models  # noqa: F401
from webapp.mail import models as mail_models  # noqa: F401
from webapp.messages import models as messages_models  # noqa: F401
from webapp.notices import models as notices_models  # noqa: F401
from webapp.organisations import models as organisations_models  # noqa: F401
from webapp.reports import models as reports_models  # noqa: F401
from webapp.rollover import models as rollover_models  # noqa: F401
from webapp.urgent import models as urgent_models  # noqa: F401
from webapp.reports import reminders as reports_reminders  # noqa: F401
from webapp.db import Base

metadata = Base.metadata
