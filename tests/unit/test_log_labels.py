"""Every code the logs can show has a name (issue #18 item 9; S-AUDIT, F-UI).

A new route, table, auth event, failure reason or audit action without a name in
``webapp/audit/labels.py`` fails here, so the log screens never fall back to a
raw code for something current. (Old records of removed routes or tables still
show their code: see the fallback test.)
"""

from __future__ import annotations

import pathlib
import re

import pytest
from pyramid.i18n import TranslationString

from webapp.audit import labels
from webapp.audit.events import AuthEventType, FailureReason
from webapp.authz import Role

WEBAPP = pathlib.Path(__file__).resolve().parents[2] / "webapp"


def _sources():
    for path in sorted(WEBAPP.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, path.read_text(encoding="utf-8")


def _literals(pattern: str) -> dict[str, str]:
    """String literals the application code passes where ``pattern`` captures them -> first place."""
    found = {}
    for path, text in _sources():
        for match in re.finditer(pattern, text):
            line = text.count("\n", 0, match.start()) + 1
            found.setdefault(match.group(1), f"{path.relative_to(WEBAPP)}:{line}")
    return found


@pytest.fixture(scope="module")
def registered_routes() -> set[str]:
    from webapp.config import configure
    from webapp.settings import build_settings

    config = configure(build_settings({"sqlalchemy.url": "sqlite://", "mimamori.session_secret": "s" * 40}, environ={}))
    return {i["introspectable"]["name"] for i in config.registry.introspector.get_category("routes")}


def test_every_registered_route_has_a_name(registered_routes):
    assert len(registered_routes) > 60
    missing = sorted(registered_routes - set(labels.ROUTE_LABELS))
    assert missing == [], f"add these routes to ROUTE_LABELS in webapp/audit/labels.py: {missing}"


def test_every_table_has_a_name():
    from webapp.all_models import metadata

    missing = sorted(set(metadata.tables) - set(labels.TABLE_LABELS))
    assert missing == [], f"add these tables to TABLE_LABELS in webapp/audit/labels.py: {missing}"


def test_every_entity_the_code_records_has_a_name():
    # Records written by hand (views, saves of a whole day, exports) name their entity
    # as a literal; the recorder names tables (covered above).
    entities = {
        **_literals(r"""["']entity["']\s*:\s*["'](\w+)["']"""),
        **_literals(r"""_record_views\(\s*request,\s*["'](\w+)["']"""),
        **_literals(r"""entity,\s*child_id\s*=\s*["'](\w+)["']"""),
    }
    assert {"attendance_days", "children", "monthly_reports"} <= set(entities)
    missing = {name: where for name, where in entities.items() if name not in labels.TABLE_LABELS}
    assert missing == {}


def test_every_action_the_code_records_has_a_name():
    actions = _literals(r"""["']action["']\s*:\s*["'](\w+)["']""")
    assert {"create", "update", "delete", "view", "save", "export", "archive"} <= set(actions)
    missing = {name: where for name, where in actions.items() if name not in labels.ACTION_LABELS}
    assert missing == {}


def test_every_auth_event_reason_and_role_has_a_name():
    assert set(AuthEventType) == set(labels.EVENT_LABELS)
    assert set(FailureReason) == set(labels.REASON_LABELS)
    assert set(Role) == set(labels.ROLE_LABELS)
    # The same words as everywhere else in the application.
    from webapp.authz import ROLE_LABELS

    assert {role: str(name) for role, name in labels.ROLE_LABELS.items()} == ROLE_LABELS


def test_auth_events_are_recorded_only_from_the_enum():
    # A string literal would be an event with no name (and no filter option).
    literal = _literals(r"""(?:\.record|record_after_request)\(\s*(?:request,\s*)?["']([^"']+)["']""")
    assert literal == {}


def test_every_name_is_a_message_id():
    """Names are ``_()`` message ids, so the English catalog translates them (tests/unit/test_translations.py)."""
    for table in (labels.ROUTE_LABELS, labels.TABLE_LABELS, labels.EVENT_LABELS, labels.REASON_LABELS,
                  labels.ACTION_LABELS, labels.ROLE_LABELS):
        assert all(isinstance(name, TranslationString) and name for name in table.values())


def test_examples_from_the_issue():
    assert labels.route_label("admin.account_edit") == "アカウントの編集"
    assert labels.route_label("centre.review_queue") == "確認待ちの報告"
    assert labels.table_label("monthly_reports") == "月次報告"
    assert labels.event_label(AuthEventType.LOGIN_SUCCEEDED) == "ログイン成功"
    assert labels.event_label("login_succeeded") == "ログイン成功"
    assert labels.action_label("view") == "閲覧"


@pytest.mark.parametrize("label", [labels.route_label, labels.table_label, labels.event_label,
                                   labels.reason_label, labels.action_label, labels.role_label])
def test_unknown_codes_fall_back_to_the_code_never_an_error(label):
    assert label("failed_logins") == "failed_logins"
    assert label("") == ""
    assert label(None) == ""
