"""Generated demo data: centres, facilities, accounts, children and a year of reports.

``mimamori demo-data --scale small|setagaya`` calls :func:`load`. Everything is
generated from a seeded :class:`random.Random`, so a run is reproducible, and
names are random combinations of common name parts — no real person or real
facility list is copied. The ``setagaya`` scale matches the ward (five child &
family support centres, the child guidance centre, ~500 facilities, ~5,000
children, 12 months of reports); ``small`` has the same shape for the README's
quick start and the tests.

Rows are bulk-inserted (one INSERT per table and batch, ids via RETURNING), so
the ward scale loads in seconds rather than the minutes one ORM object per row
would take. Demo data goes only into an empty database: :func:`load` refuses
otherwise, so re-running the command can never mix demo rows into real ones.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from typing import NamedTuple

import sqlalchemy as sa

from webapp.accounts.models import Account
from webapp.accounts.second_factor import new_secret
from webapp.accounts.services import PasswordService
from webapp.authz import Role
from webapp.children.models import Child, Grade
from webapp.clock import JST
import webapp.demo.alerts as demo_alerts
import webapp.demo.attendance as demo_attendance
import webapp.demo.names as names
import webapp.demo.notices as demo_notices
import webapp.demo.urgent as demo_urgent
from webapp.demo.bulk import IdAllocator
from webapp.demo.reports import ReportGenerator, months_back
from webapp.organisations.models import Centre, CentreKind, Facility, FacilityType

# One password for every demo account (printed by describe_logins). Hashed once
# per load: argon2id per account would take minutes at the ward scale.
DEMO_PASSWORD = "mimamori-demo-2026"
# Every demo account has the address login@example.jp (a domain reserved for examples).
DEMO_MAIL_DOMAIN = "example.jp"

T = FacilityType
SUPPORT_CENTRES = (
    ("setagaya", "世田谷子ども家庭支援センター"),
    ("kitazawa", "北沢子ども家庭支援センター"),
    ("tamagawa", "玉川子ども家庭支援センター"),
    ("kinuta", "砧子ども家庭支援センター"),
    ("karasuyama", "烏山子ども家庭支援センター"),
)
GUIDANCE_CENTRE = ("jisou", "世田谷区児童相談所")

# Facility code prefix; the facility account's login is the code in lower case.
CODE_PREFIX = {
    T.ELEMENTARY: "ES", T.JUNIOR_HIGH: "JH", T.NURSERY: "NS", T.KINDERGARTEN: "KG",
    T.CERTIFIED: "CE", T.AFTER_SCHOOL: "AS", T.OTHER: "OT",
}
# Grades that occur at each kind of facility.
GRADES = {
    T.ELEMENTARY: (Grade.ES1, Grade.ES2, Grade.ES3, Grade.ES4, Grade.ES5, Grade.ES6),
    T.JUNIOR_HIGH: (Grade.JH1, Grade.JH2, Grade.JH3),
    T.NURSERY: (Grade.AGE0, Grade.AGE1, Grade.AGE2, Grade.AGE3, Grade.AGE4, Grade.AGE5),
    T.KINDERGARTEN: (Grade.AGE3, Grade.AGE4, Grade.AGE5),
    T.CERTIFIED: (Grade.AGE0, Grade.AGE1, Grade.AGE2, Grade.AGE3, Grade.AGE4, Grade.AGE5),
    T.AFTER_SCHOOL: (Grade.ES1, Grade.ES2, Grade.ES3, Grade.ES4),
    T.OTHER: (Grade.ES5, Grade.ES6, Grade.JH1, Grade.JH2, Grade.JH3, Grade.HS1),
}
# Relative number of watched children per facility of each type: a school has
# many more children on the list than a small nursery.
CHILD_WEIGHT = {
    T.ELEMENTARY: 25, T.JUNIOR_HIGH: 22, T.NURSERY: 6, T.KINDERGARTEN: 5,
    T.CERTIFIED: 7, T.AFTER_SCHOOL: 4, T.OTHER: 4,
}
STAFF_TITLE = {
    T.ELEMENTARY: "副校長", T.JUNIOR_HIGH: "副校長", T.NURSERY: "園長", T.KINDERGARTEN: "園長",
    T.CERTIFIED: "園長", T.AFTER_SCHOOL: "指導員", T.OTHER: "担当",
}


@dataclasses.dataclass(frozen=True)
class Scale:
    support_centres: int
    facilities: dict[FacilityType, int]
    children: int
    caseworkers_per_centre: int
    # Share of children whose responsible centre is the guidance centre.
    guidance_share: float


SCALES = {
    "small": Scale(
        support_centres=2,
        facilities={T.ELEMENTARY: 1, T.JUNIOR_HIGH: 1, T.NURSERY: 1, T.KINDERGARTEN: 1,
                    T.CERTIFIED: 1, T.AFTER_SCHOOL: 1},
        children=40,
        caseworkers_per_centre=1,
        guidance_share=0.1,
    ),
    "setagaya": Scale(
        support_centres=5,
        facilities={T.ELEMENTARY: 62, T.JUNIOR_HIGH: 29, T.NURSERY: 240, T.KINDERGARTEN: 50,
                    T.CERTIFIED: 15, T.AFTER_SCHOOL: 85, T.OTHER: 19},
        children=5000,
        caseworkers_per_centre=3,
        guidance_share=0.06,
    ),
}

# The first elementary school is the "showcase": its account is printed first,
# and its latest month always has children still to report (see ReportGenerator),
# so a person following the README can carry a report from draft to acknowledged.
SHOWCASE_MIN_CHILDREN = 6


class DemoDataRefused(SystemExit):
    """Raised instead of loading into a database that already has data.

    A SystemExit so that the ``mimamori demo-data`` command ends with the
    message on stderr and a non-zero status, and no traceback.
    """


class Login(NamedTuple):
    role: Role
    login: str
    password: str
    organisation: str
    totp_secret: str | None = None


def load(db, scale: str = "small", seed: int = 20261126, *, now: dt.datetime | None = None,
         password_hash: str | None = None, alongside: str | None = None) -> list[Login]:
    """Load demo data into the empty database behind ``db``; returns every demo login.

    ``now`` (default: the real time) decides the 12 report months: the year
    ending with the previous month. ``password_hash`` lets tests skip the one
    argon2 hash. The caller commits.

    ``alongside`` (a short prefix such as ``w``) adds a second, separate demo
    next to demo data already loaded instead (lab only: the ward-day benchmark
    needs the ward's scale while the lab's tests keep using the small demo's
    logins): centre and facility codes and every login start with the prefix,
    no admin, auditor or notices are added, and every caseworker is enrolled
    with a second factor whose secret :func:`describe_every_login` prints.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if alongside is None:
        _refuse_unless_empty(db)
        chosen = SCALES[scale]
    else:
        _refuse_unless_new_prefix(db, alongside)
        chosen = dataclasses.replace(SCALES[scale], caseworkers_per_centre=ALONGSIDE_CASEWORKERS_PER_CENTRE)
    now = now or dt.datetime.now(dt.UTC)
    loader = _Loader(db, chosen, random.Random(seed), now,
                     password_hash or PasswordService().hash(DEMO_PASSWORD), prefix=alongside)
    return loader.run()


# 17 per centre: 102 caseworkers at the ward's six centres, one per simulated
# caseworker of the benchmark (a second factor code can be used once per account).
ALONGSIDE_CASEWORKERS_PER_CENTRE = 17


def _refuse_unless_new_prefix(db, prefix: str) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9]{0,3}", prefix):
        raise DemoDataRefused(f"demo data refused: the prefix {prefix!r} must be 1-4 lower-case letters or digits.")
    taken = db.scalar(sa.select(sa.func.count()).select_from(Centre).where(Centre.code.startswith(f"{prefix}-")))
    if taken:
        raise DemoDataRefused(f"demo data refused: demo data with the prefix {prefix!r} is already loaded; "
                              "nothing was changed.")


def _refuse_unless_empty(db) -> None:
    counts = {
        label: db.scalar(sa.select(sa.func.count()).select_from(model))
        for label, model in (("centres", Centre), ("facilities", Facility),
                             ("accounts", Account), ("children", Child))
    }
    present = {label: n for label, n in counts.items() if n}
    if present:
        found = ", ".join(f"{n} {label}" for label, n in present.items())
        raise DemoDataRefused(
            f"demo data refused: the database already has data ({found}). "
            "Demo data is loaded only into an empty database; nothing was changed."
        )


class _Loader:
    def __init__(self, db, scale: Scale, rng: random.Random, now: dt.datetime, password_hash: str,
                 prefix: str | None = None):
        self.ids = IdAllocator(db)
        self.prefix = prefix
        self.scale = scale
        self.rng = rng
        self.now = now
        self.password_hash = password_hash
        self.logins: list[Login] = []
        self.used_names: set[str] = set()

    def run(self) -> list[Login]:
        centres = self._centres()
        facilities = self._facilities(centres)
        caseworkers, facility_accounts = self._accounts(centres, facilities)
        children = self._children(centres, facilities)
        today = self.now.astimezone(JST).date()
        latest = months_back(today.replace(day=1), 1)
        ReportGenerator(self.ids, self.rng, self.now, latest).generate(
            children, facilities, caseworkers, facility_accounts
        )
        streaks = demo_attendance.generate(self.ids, random.Random(self.rng.random()), self.now, children,
                                           facilities, facility_accounts)
        demo_alerts.generate(self.ids, self.now, children, streaks, caseworkers)
        demo_urgent.generate(self.ids, self.now, children, facilities, caseworkers, facility_accounts)
        if self.prefix is None:  # the first demo's notices are everybody's
            demo_notices.generate(self.ids, self.now, children)
        self.ids.finish()
        return self.logins

    def _stamp(self) -> dict:
        # Registered before the first of the twelve report months.
        created = self.now - dt.timedelta(days=400)
        return {"created_at": created, "updated_at": created}

    # --- organisations -----------------------------------------------------

    def _centres(self) -> list[dict]:
        rows = [
            {"code": self._code(code), "name": name, "kind": CentreKind.SUPPORT_CENTRE, "active": True,
             **self._stamp()}
            for code, name in SUPPORT_CENTRES[: self.scale.support_centres]
        ]
        code, name = GUIDANCE_CENTRE
        rows.append({"code": self._code(code), "name": name, "kind": CentreKind.GUIDANCE_CENTRE, "active": True,
                     **self._stamp()})
        self.ids.insert(Centre, rows)
        return rows

    def _code(self, code: str) -> str:
        return code if self.prefix is None else f"{self.prefix}-{code}"

    def _place(self) -> str:
        return self.rng.choice(names.PLACE_HEADS) + self.rng.choice(names.PLACE_TAILS)

    def _facility_name(self, facility_type: FacilityType) -> str:
        for _attempt in range(1000):
            place, soft = self._place(), self.rng.choice(names.SOFT_WORDS)
            options = {
                T.ELEMENTARY: [f"世田谷区立{place}小学校"],
                T.JUNIOR_HIGH: [f"世田谷区立{place}中学校"],
                T.NURSERY: [f"{place}保育園", f"世田谷区立{place}保育園", f"{soft}{place}保育園"],
                T.KINDERGARTEN: [f"{place}幼稚園", f"世田谷区立{place}幼稚園", f"{place}{soft}幼稚園"],
                T.CERTIFIED: [f"認定こども園{place}{soft}", f"{place}こども園"],
                T.AFTER_SCHOOL: [f"{place}学童クラブ", f"{place}小学校 放課後学童クラブ"],
                T.OTHER: [f"{place}児童館", f"{place}教育支援教室", f"{soft}{place}フリースクール"],
            }[facility_type]
            name = self.rng.choice(options)
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        raise RuntimeError("ran out of facility names")  # cannot happen at these scales

    def _facilities(self, centres: list[dict]) -> list[dict]:
        districts = [c for c in centres if c["kind"] == CentreKind.SUPPORT_CENTRE]
        rows = []
        for facility_type, count in self.scale.facilities.items():
            for n in range(1, count + 1):
                # Round-robin over the districts, so each centre has every type.
                centre = districts[(n - 1) % len(districts)] if count > 1 else districts[0]
                rows.append({
                    "code": self._code(f"{CODE_PREFIX[facility_type]}{n:03d}").upper(),
                    "name": self._facility_name(facility_type),
                    "facility_type": facility_type,
                    "centre_id": centre["id"],
                    "active": True,
                    **self._stamp(),
                })
        self.ids.insert(Facility, rows)
        return rows

    # --- accounts -----------------------------------------------------------

    def _staff_name(self) -> str:
        family = self.rng.choice(names.FAMILY_NAMES)[0]
        return f"{family} {self.rng.choice(names.STAFF_GIVEN_NAMES)}"

    def _accounts(self, centres, facilities):
        """Returns ({centre id: [caseworker ids]}, {facility id: account id})."""
        rows: list[dict] = []
        organisations: list[str] = []

        def add(role, login, display_name, organisation, centre_id=None, facility_id=None):
            enrolled = self.prefix is not None and role == Role.CASEWORKER
            rows.append({
                "totp_secret": new_secret() if enrolled else None,
                "totp_enrolled_at": self.now if enrolled else None,
                # A domain reserved for examples (JPRS): the outbox fills after demo actions, and
                # nothing could ever reach a real mailbox.
                "login": login, "email": f"{login}@{DEMO_MAIL_DOMAIN}",
                "display_name": display_name, "password_hash": self.password_hash,
                "role": role, "centre_id": centre_id, "facility_id": facility_id, "active": True,
                "must_change_password": False, **self._stamp(),
            })
            organisations.append(organisation)

        if self.prefix is None:
            add(Role.ADMIN, "admin", "区管理者（デモ）", "世田谷区")
            add(Role.AUDITOR, "auditor", "監査担当（デモ）", "世田谷区")
        for centre in centres:
            for n in range(1, self.scale.caseworkers_per_centre + 1):
                add(Role.CASEWORKER, f"cw-{centre['code']}-{n}", self._staff_name(), centre["name"],
                    centre_id=centre["id"])
        for facility in facilities:
            title = STAFF_TITLE[facility["facility_type"]]
            add(Role.FACILITY, facility["code"].lower(), f"{self._staff_name()}（{title}）", facility["name"],
                facility_id=facility["id"])

        caseworkers: dict[int, list[int]] = {}
        facility_accounts: dict[int, int] = {}
        for row, organisation, new_id in zip(rows, organisations, self.ids.insert(Account, rows)):
            self.logins.append(Login(row["role"], row["login"], DEMO_PASSWORD, organisation, row["totp_secret"]))
            if row["role"] == Role.CASEWORKER:
                caseworkers.setdefault(row["centre_id"], []).append(new_id)
            elif row["role"] == Role.FACILITY:
                facility_accounts[row["facility_id"]] = new_id
        return caseworkers, facility_accounts

    # --- children -----------------------------------------------------------

    def _child_counts(self, facilities: list[dict]) -> list[int]:
        """Children per facility: at least one each, the rest by type weight."""
        counts = [1] * len(facilities)
        counts[0] = SHOWCASE_MIN_CHILDREN
        weights = [CHILD_WEIGHT[f["facility_type"]] for f in facilities]
        remaining = max(self.scale.children - sum(counts), 0)
        for index in self.rng.choices(range(len(facilities)), weights=weights, k=remaining):
            counts[index] += 1
        return counts

    def _child_name(self, force_rare: bool) -> tuple[str, str, str, str]:
        if force_rare or self.rng.random() < 0.004:
            family, family_kana = self.rng.choice(names.RARE_FAMILY_NAMES)
        else:
            pool = names.FAMILY_NAMES
            # Earlier entries are the commoner names.
            family, family_kana = self.rng.choices(pool, weights=range(len(pool) + 20, 20, -1))[0]
        given_pool = names.BOYS_NAMES if self.rng.random() < 0.5 else names.GIRLS_NAMES
        given, given_kana = self.rng.choice(given_pool)
        return family, given, family_kana, given_kana

    def _class_name(self, facility_type: FacilityType) -> str | None:
        if facility_type in (T.ELEMENTARY, T.JUNIOR_HIGH):
            return f"{self.rng.randint(1, 4)}組" if self.rng.random() < 0.8 else None
        if facility_type in (T.NURSERY, T.CERTIFIED):
            return self.rng.choice(names.NURSERY_CLASSES)
        if facility_type == T.KINDERGARTEN:
            return self.rng.choice(names.KINDERGARTEN_CLASSES)
        return None

    def _monitoring(self, window_start: dt.date, latest: dt.date, steady: bool):
        """(start, end) of monitoring: most began before the 12 months, some during, a few ended."""
        rng = self.rng
        if steady or rng.random() < 0.65:
            start = window_start - dt.timedelta(days=rng.randint(20, 900))
        else:
            span = (latest - window_start).days + 27
            start = window_start + dt.timedelta(days=rng.randint(0, span))
        end = None
        if not steady and rng.random() < 0.07:
            earliest_end = max(start, window_start) + dt.timedelta(days=20)
            if earliest_end < latest:
                end = earliest_end + dt.timedelta(days=rng.randint(0, (latest - earliest_end).days))
        return start, end

    def _children(self, centres, facilities) -> list[dict]:
        guidance = next(c for c in centres if c["kind"] == CentreKind.GUIDANCE_CENTRE)
        today = self.now.astimezone(JST).date()
        latest = months_back(today.replace(day=1), 1)
        window_start = months_back(latest, 11)
        rows = []
        for facility, count in zip(facilities, self._child_counts(facilities)):
            showcase = facility is facilities[0]
            for n in range(count):
                # Every 97th child (and one in the showcase) has a rare-kanji name.
                force_rare = (len(rows) % 97 == 5) or (showcase and n == 2)
                family, given, family_kana, given_kana = self._child_name(force_rare)
                centre_id = facility["centre_id"]
                if self.rng.random() < self.scale.guidance_share:
                    centre_id = guidance["id"]
                start, end = self._monitoring(window_start, latest, steady=showcase and n < SHOWCASE_MIN_CHILDREN)
                rows.append({
                    "facility_id": facility["id"], "centre_id": centre_id,
                    "family_name": family, "given_name": given,
                    "family_name_kana": family_kana, "given_name_kana": given_kana,
                    "grade": self.rng.choice(GRADES[facility["facility_type"]]),
                    "class_name": self._class_name(facility["facility_type"]),
                    "monitoring_start": start, "monitoring_end": end,
                    **self._stamp(),
                })
        self.ids.insert(Child, rows)
        return rows


ROLE_ORDER = (Role.ADMIN, Role.AUDITOR, Role.CASEWORKER, Role.FACILITY)


def describe_logins(logins: list[Login]) -> str:
    """The demo logins as text for the terminal: every role, a sample of facilities."""
    lines = [
        "見守り デモデータを読み込みました (demo data loaded).",
        f"デモ用パスワード (password for every demo account): {DEMO_PASSWORD}",
        "",
    ]
    by_role = {role: [entry for entry in logins if entry.role == role] for role in ROLE_ORDER}
    for role in ROLE_ORDER:
        entries = by_role[role]
        if not entries:
            continue
        lines.append(f"{role.label} ({role.value}):")
        shown = entries
        if role == Role.CASEWORKER:
            # One per centre; the others differ only in the trailing number.
            shown = [e for e in entries if e.login.endswith("-1")]
        elif role == Role.FACILITY:
            # The first facility of each type (e.g. es001, ns001).
            shown = [e for e in entries if e.login.endswith("001")]
        for entry in shown:
            lines.append(f"  {entry.login:<18} {entry.organisation}")
        hidden = len(entries) - len(shown)
        if hidden:
            hint = ("cw-<centre>-<n>" if role == Role.CASEWORKER
                    else "the facility code in lower case, e.g. ns002")
            lines.append(f"  … and {hidden} more ({hint})")
    return "\n".join(lines)


def describe_every_login(logins: list[Login]) -> str:
    """Every login, one a line: role, login, second-factor secret or ``-`` (for
    the ward-day benchmark, which logs in as each of them)."""
    return "\n".join(f"{e.role.value}\t{e.login}\t{e.totp_secret or '-'}" for e in logins)
