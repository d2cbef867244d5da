"""Login throttling per client address (S-AUTH): a growing wait, never a lock.

A facility's staff usually share one global address. Refusing that address
after N failures, as a hard lock, let one person's typos shut out every
colleague. So the address measure is the number of *different* login IDs
that failed from it within the window: one person mistyping their own
password thirty times counts once (their account's own lockout deals with
them), while a password spray, one guess per ID, counts every guess.

Once that number reaches the threshold, each further attempt from the
address must wait ``base * 2**(ids - threshold)`` after the address's last
failure, at most ``max_delay``. An attempt inside the wait is answered at
once with how long is left (nothing sleeps in a request thread), runs no
password check, and does not count as a guess.

Everything is read from the auth events already recorded for each attempt
(``auth_events``, indexed by address and time): no table of its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from webapp.audit.events import AuthEventType, FailureReason
from webapp.audit.models import AuthEvent

# Failures that went through a password check: the guesses. Throttled
# attempts (no check) and second-factor codes (their own lockout) are not.
GUESS_REASONS = tuple(str(reason) for reason in (
    FailureReason.UNKNOWN_ACCOUNT, FailureReason.WRONG_PASSWORD, FailureReason.LOCKED,
    FailureReason.DISABLED, FailureReason.ADDRESS_NOT_ALLOWED))


@dataclasses.dataclass(frozen=True)
class AddressThrottle:
    logins: int = 10
    window: dt.timedelta = dt.timedelta(minutes=60)
    base_delay: dt.timedelta = dt.timedelta(seconds=2)
    max_delay: dt.timedelta = dt.timedelta(minutes=5)

    def delay_after(self, failed_logins: int) -> dt.timedelta | None:
        """The wait after the last failure, with this many different IDs failed; None: no wait."""
        if failed_logins < self.logins:
            return None
        # Capped before doubling, so a long spray cannot overflow the arithmetic.
        doublings = min(failed_logins - self.logins, 32)
        return min(self.max_delay, self.base_delay * 2 ** doublings)

    def wait(self, db, client_address: str | None, now: dt.datetime) -> dt.timedelta | None:
        """How long ``client_address`` must still wait before its next attempt; None: go ahead."""
        if not client_address:
            return None
        failed_logins, last_failure = db.execute(
            sa.select(sa.func.count(sa.distinct(AuthEvent.login)), sa.func.max(AuthEvent.occurred_at)).where(
                AuthEvent.client_address == client_address,
                AuthEvent.event == str(AuthEventType.LOGIN_FAILED),
                AuthEvent.reason.in_(GUESS_REASONS),
                AuthEvent.occurred_at >= now - self.window,
            )
        ).one()
        delay = self.delay_after(failed_logins)
        if delay is None:
            return None
        remaining = last_failure + delay - now
        return remaining if remaining > dt.timedelta(0) else None
