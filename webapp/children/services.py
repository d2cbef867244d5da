"""The child register: scoped listing and search, registering and changing children (F-CHILD).

Every query goes through :class:`webapp.children.scope.Scope`; a child outside
the scope does not exist for the caller (404).
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from webapp.authz import Role
from webapp.children.forms import to_hiragana, validate_child
from webapp.children.models import Child
from webapp.children.scope import Scope
from webapp.forms import Validator, clean_choice
from webapp.i18n import _
from webapp.organisations.models import Centre, Facility
from webapp.organisations.services import Page, paginate, search_terms

CHILD_FIELDS = ("facility_id", "centre_id", "family_name", "given_name", "family_name_kana",
                "given_name_kana", "grade", "class_name", "monitoring_start", "monitoring_end")


class ChildChoices:
    """Which facilities and centres this user may put a child in.

    Admins, and caseworkers when ``mimamori.caseworker_scope`` is ``all``, choose
    any active centre; other caseworkers register children for their own centre
    only. Any active facility may be chosen; a caseworker's list shows their
    own district and any other facility is entered by its code.
    """

    def __init__(self, db, scope: Scope, child: Child | None = None):
        self.db = db
        self.scope = scope
        self.child = child
        account = scope.account
        self.any_centre = account.role == Role.ADMIN or scope.caseworker_scope == "all"
        self.own_centre_id = account.centre_id

    def centres(self) -> list[Centre]:
        if not self.any_centre:
            return [self.db.get(Centre, self.own_centre_id)]
        keep = self.child.centre_id if self.child else None
        return list(self.db.scalars(sa.select(Centre).where(sa.or_(Centre.active, Centre.id == keep))
                                    .order_by(Centre.code)))

    def facilities(self) -> list[Facility]:
        keep = self.child.facility_id if self.child else None
        query = sa.select(Facility).where(sa.or_(Facility.active, Facility.id == keep))
        if not self.any_centre:
            query = query.where(sa.or_(Facility.centre_id == self.own_centre_id, Facility.id == keep))
        return list(self.db.scalars(query.order_by(Facility.code)))

    def facility_by_code(self, code: str) -> Facility | None:
        return self.db.scalar(sa.select(Facility).where(Facility.code == code, Facility.active))


def validate_child_form(choices: ChildChoices, data) -> Validator:
    form = validate_child(data, start_default=None)
    facilities = {str(f.id): f for f in choices.facilities()}
    code = unicodedata.normalize("NFKC", data.get("facility_code") or "").strip()
    facility = None
    if code:
        # Another district's facility, typed by its code (see ChildChoices).
        facility = choices.facility_by_code(code[:20])
        if facility is None:
            form.error("facility_code", _("施設コード「${code}」の有効な施設はありません。", mapping={"code": code[:20]}))
    else:
        facility_id, error = clean_choice(data.get("facility_id"), facilities)
        if error:
            form.error("facility_id", error)
        else:
            facility = facilities[facility_id]
    form.values["facility_id"] = facility.id if facility else None

    if choices.any_centre:
        centres = {str(c.id): c for c in choices.centres()}
        centre_id, error = clean_choice(data.get("centre_id"), centres, required=False)
        if error:
            form.error("centre_id", error)
        # Left blank: the centre of the facility's district.
        form.values["centre_id"] = int(centre_id) if centre_id else (facility.centre_id if facility else None)
    else:
        form.values["centre_id"] = choices.own_centre_id
    return form


class ChildService:
    def __init__(self, db, scope: Scope):
        self.db = db
        self.scope = scope

    def search(self, q: str | None, number: int) -> Page:
        """Children in scope matching every word of ``q`` in name, kana or facility, by kana."""
        query = self.scope.children().join(Child.facility).options(
            joinedload(Child.facility), joinedload(Child.centre))
        for term in search_terms(q):
            term = unicodedata.normalize("NFC", term)
            kana = to_hiragana(term)
            query = query.where(sa.or_(
                (Child.family_name + Child.given_name).contains(term, autoescape=True),
                (Child.family_name_kana + Child.given_name_kana).contains(kana, autoescape=True),
                Child.family_name_kana.contains(kana, autoescape=True),
                Child.given_name_kana.contains(kana, autoescape=True),
                Facility.name.contains(term, autoescape=True),
                Facility.code == term,
            ))
        query = query.order_by(Child.family_name_kana, Child.given_name_kana, Child.id)
        return paginate(self.db, query, number)

    def get(self, child_id: int) -> Child:
        """The child, or HTTPNotFound when it is outside the caller's scope."""
        return self.scope.get_child(self.db, child_id)

    def duplicate_of(self, values: dict, except_id: int | None = None) -> Child | None:
        query = sa.select(Child).where(
            Child.facility_id == values["facility_id"],
            Child.family_name == values["family_name"], Child.given_name == values["given_name"],
            Child.family_name_kana == values["family_name_kana"],
            Child.given_name_kana == values["given_name_kana"])
        if except_id is not None:
            query = query.where(Child.id != except_id)
        return self.db.scalar(query.limit(1))

    def save(self, child: Child | None, values: dict) -> tuple[Child | None, dict]:
        if self.duplicate_of(values, child.id if child else None) is not None:
            return child, {"family_name": _("この施設には同じ氏名・ふりがなの児童が既に登録されています。")}
        child = child or Child()
        for name in CHILD_FIELDS:
            setattr(child, name, values[name])
        self.db.add(child)
        self.db.flush()
        return child, {}
