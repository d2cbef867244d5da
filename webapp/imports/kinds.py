"""What can be imported: centres, facilities, accounts and children.

Each kind preloads everything it needs to check a file in a few queries (no
query per line: 5,000 children must take seconds), checks each line into a
:class:`LineResult`, and applies checked lines through the ORM so that every
change is recorded like a change made on a form.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from webapp.accounts.admin_forms import organisation_error, validate_account
from webapp.accounts.admin_services import place_organisation, temporary_password
from webapp.accounts.models import Account, LoginSession
from webapp.authz import Role
from webapp.children.forms import validate_child
from webapp.children.models import Child
from webapp.i18n import _
from webapp.imports.parsing import Column, Problem, Row
from webapp.organisations.forms import clean_code, validate_centre, validate_facility
from webapp.organisations.models import Centre, Facility

CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"


@dataclasses.dataclass
class LineResult:
    line: int
    key: str
    action: str = ERROR
    problems: list[Problem] = dataclasses.field(default_factory=list)
    target: object = None  # the existing object, for updates
    values: dict = dataclasses.field(default_factory=dict)


class Kind:
    name: str
    label: str
    columns: list[Column]
    refused: dict = {}
    example: list[str] = []

    def __init__(self, db, *, today: dt.date, now: dt.datetime, account_id: int | None, passwords=None):
        self.db = db
        self.today = today
        self.now = now
        self.account_id = account_id
        self.passwords = passwords
        self.headers = {column.key: column.header for column in self.columns}
        self.seen: dict = {}

    def preload(self) -> None:
        raise NotImplementedError

    def check(self, row: Row, present: set[str]) -> LineResult:
        raise NotImplementedError

    def apply(self, results: list[LineResult]) -> list[tuple[str, str]]:
        raise NotImplementedError

    # -- helpers shared by the kinds --

    def problem(self, result: LineResult, key: str | None, message) -> None:
        result.problems.append(Problem(result.line, self.headers.get(key, key) if key else None, message))

    def absorb(self, result: LineResult, validator) -> dict:
        for key, message in validator.errors.items():
            self.problem(result, key, message)
        return validator.values

    def once(self, result: LineResult, key, column: str) -> None:
        """The same object twice in one file is ambiguous: the second line is an error."""
        if key in self.seen:
            self.problem(result, column, _("${line}行目と同じ${what}です。1つのファイルに同じものは1行だけ書いてください。",
                                           mapping={"line": self.seen[key], "what": self.headers[column]}))
        else:
            self.seen[key] = result.line

    @staticmethod
    def decide(result: LineResult, target, values: dict) -> None:
        if result.problems:
            result.action = ERROR
        elif target is None:
            result.action = CREATE
        elif any(getattr(target, name) != value for name, value in values.items()):
            result.action = UPDATE
        else:
            result.action = UNCHANGED
        result.target, result.values = target, values

    @staticmethod
    def write(results: list[LineResult], make) -> list:
        created = []
        for result in results:
            if result.action == UPDATE:
                for name, value in result.values.items():
                    setattr(result.target, name, value)
            elif result.action == CREATE:
                created.append(make(result.values))
        return created


ACTIVE = Column("active", "状態", aliases=("有効",))


class CentreKind(Kind):
    name, label = "centres", "センター"
    columns = [Column("code", "コード", True), Column("name", "名称", True), Column("kind", "種別", True), ACTIVE]
    example = ["C01", "世田谷子ども家庭支援センター", "子ども家庭支援センター", "有効"]

    def preload(self):
        self.centres = {c.code: c for c in self.db.scalars(sa.select(Centre))}

    def check(self, row, present):
        cells = row.cells
        result = LineResult(row.line, cells.get("code", "").strip())
        existing = self.centres.get(cells.get("code", "").strip())
        values = self.absorb(result, validate_centre(cells, active_default=existing.active if existing else True))
        if values.get("code"):
            self.once(result, values["code"], "code")
        self.decide(result, existing, values)
        return result

    def apply(self, results):
        self.db.add_all(self.write(results, lambda values: Centre(**values)))
        return []


class FacilityKind(Kind):
    name, label = "facilities", "施設"
    columns = [Column("code", "コード", True), Column("name", "名称", True), Column("facility_type", "種別", True),
               Column("centre_code", "センターコード", True), ACTIVE]
    example = ["F0001", "世田谷区立第一小学校", "小学校", "C01", "有効"]

    def preload(self):
        self.facilities = {f.code: f for f in self.db.scalars(sa.select(Facility))}
        self.centres = {c.code: c for c in self.db.scalars(sa.select(Centre))}

    def check(self, row, present):
        cells = row.cells
        result = LineResult(row.line, cells.get("code", "").strip())
        existing = self.facilities.get(cells.get("code", "").strip())
        values = self.absorb(result, validate_facility(cells, active_default=existing.active if existing else True))
        if values.get("code"):
            self.once(result, values["code"], "code")
        values["centre_id"] = self.centre_id(result, cells.get("centre_code"), required=True)
        self.decide(result, existing, values)
        return result

    def centre_id(self, result, raw, *, required):
        code, error = clean_code(raw, required=required)
        if error:
            self.problem(result, "centre_code", error)
            return None
        if code is None:
            return None
        centre = self.centres.get(code)
        if centre is None:
            self.problem(result, "centre_code", _("センターコード「${code}」のセンターはありません。", mapping={"code": code}))
            return None
        return centre.id

    def apply(self, results):
        self.db.add_all(self.write(results, lambda values: Facility(**values)))
        return []


class AccountKind(Kind):
    name, label = "accounts", "アカウント"
    columns = [Column("login", "ログインID", True), Column("display_name", "氏名", True), Column("role", "役割", True),
               Column("centre_code", "所属センターコード"), Column("facility_code", "所属施設コード"), ACTIVE,
               Column("email", "メールアドレス")]
    example = ["tanaka.hanako", "田中 花子", "施設職員", "", "F0001", "有効", "tanaka@example.jp"]
    refused = {name: _("パスワードの列は取り込めません。パスワードをファイルに書かないでください。新しいアカウントには仮パスワードを発行し、取り込み後に一度だけ表示します。")
               for name in ("password", "パスワード", "password_hash", "初期パスワード", "仮パスワード")}

    def preload(self):
        self.accounts = {a.login.lower(): a for a in self.db.scalars(sa.select(Account))}
        self.centres = {c.code: c for c in self.db.scalars(sa.select(Centre))}
        self.facilities = {f.code: f for f in self.db.scalars(sa.select(Facility))}

    def lookup(self, result, key, table, raw, label):
        code, error = clean_code(raw, required=False)
        if error:
            self.problem(result, key, error)
            return None
        if code is None:
            return None
        found = table.get(code)
        if found is None:
            self.problem(result, key, _("${what}「${code}」はありません。", mapping={"what": label, "code": code}))
            return None
        return found

    def check(self, row, present):
        cells = row.cells
        login = cells.get("login", "").strip()
        result = LineResult(row.line, login)
        existing = self.accounts.get(login.lower())
        values = self.absorb(result, validate_account(cells, active_default=existing.active if existing else True))
        if "email" not in present:
            # A file without the column keeps the stored addresses; present and blank clears one.
            values.pop("email", None)
        if values.get("login"):
            self.once(result, values["login"].lower(), "login")
        role = values.get("role")
        centre = self.lookup(result, "centre_code", self.centres, cells.get("centre_code"), "センターコード")
        facility = self.lookup(result, "facility_code", self.facilities, cells.get("facility_code"), "施設コード")
        if role and not result.problems:
            problem = organisation_error(role, centre, facility)
            if problem:
                self.problem(result, problem[0] + "_code", problem[1])
        if existing is not None and existing.id == self.account_id:
            if role and role != Role.ADMIN:
                self.problem(result, "role", _("自分自身の役割は変更できません。"))
            if values.get("active") is False:
                self.problem(result, "active", _("自分自身を無効にすることはできません。"))
        if role:
            holder = Account()
            place_organisation(holder, role, centre.id if centre else None, facility.id if facility else None)
            values["centre_id"], values["facility_id"] = holder.centre_id, holder.facility_id
        self.decide(result, existing, values)
        return result

    def apply(self, results):
        issued = []

        def make(values):
            password = temporary_password()
            issued.append((values["login"], password))
            return Account(**values, must_change_password=True, password_hash=self.passwords.hash(password))

        disabled = [r.target.id for r in results if r.action == UPDATE and r.target.active and not r.values["active"]]
        self.db.add_all(self.write(results, make))
        if disabled:
            # A disabled account is logged out everywhere at once.
            self.db.execute(sa.update(LoginSession).where(LoginSession.account_id.in_(disabled),
                                                          LoginSession.ended_at.is_(None)).values(ended_at=self.now))
        return issued


class ChildKind(Kind):
    name, label = "children", "児童"
    columns = [Column("id", "ID"), Column("facility_code", "施設コード", True),
               Column("family_name", "氏", True), Column("given_name", "名", True),
               Column("family_name_kana", "氏（ふりがな）", True, ("氏(ふりがな)", "氏かな", "せい")),
               Column("given_name_kana", "名（ふりがな）", True, ("名(ふりがな)", "名かな", "めい")),
               Column("grade", "学年", True), Column("class_name", "クラス"),
               Column("centre_code", "担当センターコード"),
               Column("monitoring_start", "見守り開始日"), Column("monitoring_end", "見守り終了日")]
    example = ["", "F0001", "世田谷", "花子", "せたがや", "はなこ", "小3", "3年1組", "", "2026-04-01", ""]
    NATURAL = ("facility_id", "family_name", "given_name", "family_name_kana", "given_name_kana")

    def preload(self):
        self.facilities = {f.code: f for f in self.db.scalars(sa.select(Facility))}
        self.centres = {c.code: c for c in self.db.scalars(sa.select(Centre))}
        children = list(self.db.scalars(sa.select(Child)))
        self.by_id = {c.id: c for c in children}
        self.by_key = {tuple(getattr(c, n) for n in self.NATURAL): c for c in children}

    def check(self, row, present):
        cells = row.cells
        result = LineResult(row.line, " ".join(cells.get(k, "").strip() for k in ("family_name", "given_name")))
        existing = None
        raw_id = cells.get("id", "").strip()
        if raw_id:
            existing = self.by_id.get(int(raw_id)) if raw_id.isdigit() and len(raw_id) < 12 else None
            if existing is None:
                self.problem(result, "id", _("ID「${id}」の児童はいません。新しく登録する行ではIDを空欄にしてください。",
                                             mapping={"id": raw_id[:20]}))
        # A blank start is decided below (kept for an existing child, today for a new one);
        # date.min marks it and keeps validate_child's own end-before-start check quiet.
        values = self.absorb(result, validate_child(cells, start_default=dt.date.min))
        facility = self.facility(result, cells.get("facility_code"))
        values["facility_id"] = facility.id if facility else None
        if not result.problems:
            same = self.by_key.get(tuple(values.get(n) for n in self.NATURAL))
            if existing is None:
                existing = same
            elif same is not None and same.id != existing.id:
                self.problem(result, "family_name", _("同じ施設・氏名・ふりがなの児童（ID ${id}）が既にいます。",
                                                      mapping={"id": same.id}))
        values["centre_id"] = self.centre_id(result, cells.get("centre_code"), existing, facility)
        if values.get("monitoring_start") == dt.date.min:
            values["monitoring_start"] = existing.monitoring_start if existing else self.today
        if existing is not None:
            # Optional columns left out of the file keep what is stored; present and blank clears.
            for optional in ("class_name", "monitoring_end"):
                if optional not in present:
                    values[optional] = getattr(existing, optional)
        end, start = values.get("monitoring_end"), values.get("monitoring_start")
        if end and start and end < start:
            self.problem(result, "monitoring_end", _("終了日は開始日以降の日付にしてください。"))
        if not result.problems:
            self.once(result, existing.id if existing else tuple(values[n] for n in self.NATURAL), "family_name")
        self.decide(result, existing, values)
        return result

    def facility(self, result, raw):
        code, error = clean_code(raw)
        if error:
            self.problem(result, "facility_code", error)
            return None
        facility = self.facilities.get(code)
        if facility is None:
            self.problem(result, "facility_code", _("施設コード「${code}」の施設はありません。", mapping={"code": code}))
        return facility

    def centre_id(self, result, raw, existing, facility):
        code, error = clean_code(raw, required=False)
        if error:
            self.problem(result, "centre_code", error)
            return None
        if code is None:
            # Blank: keep the responsible centre, or for a new child the facility's district centre.
            return existing.centre_id if existing else (facility.centre_id if facility else None)
        centre = self.centres.get(code)
        if centre is None:
            self.problem(result, "centre_code", _("センターコード「${code}」のセンターはありません。", mapping={"code": code}))
            return None
        return centre.id

    def apply(self, results):
        self.db.add_all(self.write(results, lambda values: Child(**values)))
        return []


KINDS = {kind.name: kind for kind in (CentreKind, FacilityKind, AccountKind, ChildKind)}
