"""The fixed set of emails the application can send (F-NOTIFY: no personal data in any email).

An email is a template key plus parameters of three harmless kinds only:
counts, a path inside the application (ASCII letters, digits, ``/-_``; no
query string), and one of a template's fixed choices. There is no way to put
free text — a child's name, a note, a facility's name — into a message: a
parameter that is not of its declared kind is refused with
:class:`MailTemplateError` before anything is stored.
"""

from __future__ import annotations

import dataclasses
import re

FOOTER = (
    "\n\n--\n"
    "このメールは見守りシステムから自動送信されています。返信はできません。\n"
    "内容はメールには書かれていません。ログインして確認してください。\n"
)

# No query string, no fragment, no dots (no "..", no host names), no non-ASCII
# text: a path can name a page, never describe a person.
_PATH = re.compile(r"/(?:[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*)?")
MAX_COUNT = 1_000_000


class MailTemplateError(ValueError):
    """A template key or parameter that is not allowed (a programming error, not user input)."""


@dataclasses.dataclass(frozen=True)
class Count:
    """A non-negative whole number (how many reports, alerts, messages)."""

    def clean(self, name, value):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
            raise MailTemplateError(f"parameter {name!r} must be a whole number 0..{MAX_COUNT}, got {value!r}")
        return str(value)


@dataclasses.dataclass(frozen=True)
class AppPath:
    """A page of the application; rendered as the configured public URL plus the path."""

    def clean(self, name, value):
        if not isinstance(value, str) or len(value) > 200 or not _PATH.fullmatch(value):
            raise MailTemplateError(f"parameter {name!r} must be an application path like /reports, got {value!r}")
        return value


@dataclasses.dataclass(frozen=True)
class Choice:
    """One of fixed values, each mapped to fixed text."""

    texts: dict[str, str]

    def clean(self, name, value):
        if value not in self.texts:
            raise MailTemplateError(f"parameter {name!r} must be one of {sorted(self.texts)}, got {value!r}")
        return self.texts[value]


@dataclasses.dataclass(frozen=True)
class MailTemplate:
    subject: str
    body: str  # str.format fields: the declared params, plus {url} for an AppPath named "path"
    params: dict[str, Count | AppPath | Choice]


TEMPLATES: dict[str, MailTemplate] = {
    "test": MailTemplate(
        subject="【見守り】テストメール",
        body="見守りシステムからのテストメールです。このメールが届いていれば、メールの送信設定は正しく動作しています。",
        params={},
    ),
    "urgent_report": MailTemplate(
        subject="【見守り】新しい緊急連絡があります",
        body="新しい緊急連絡があります。ログインして確認してください。\n\n{url}",
        params={"path": AppPath()},
    ),
    # To the facility's accounts when the centre answers its urgent report (a reply the facility sees).
    "urgent_answered": MailTemplate(
        subject="【見守り】緊急連絡にセンターから返信があります",
        body="貴施設からの緊急連絡に、センターから返信がありました。ログインして確認してください。\n\n{url}",
        params={"path": AppPath()},
    ),
    # To the facility's accounts when the centre returns (差し戻し) a monthly report.
    "report_returned": MailTemplate(
        subject="【見守り】月次報告が差し戻されました",
        body="貴施設の月次報告がセンターから差し戻されました。ログインして理由を確認し、修正して再提出してください。\n\n{url}",
        params={"path": AppPath()},
    ),
    "alerts": MailTemplate(
        subject="【見守り】新しいアラートがあります",
        # Counts new alerts and those raised to 要対応: both need someone at the centre now.
        body="新しいアラート、または要対応に引き上げられたアラートが{count}件あります。ログインして確認してください。\n\n{url}",
        params={"count": Count(), "path": AppPath()},
    ),
    "messages": MailTemplate(
        subject="【見守り】新しいメッセージがあります",
        body="未読のメッセージが{count}件あります。ログインして確認してください。\n\n{url}",
        params={"count": Count(), "path": AppPath()},
    ),
    "report_reminder": MailTemplate(
        subject="【見守り】月次報告のお知らせ",
        body="{stage}未提出の報告が{count}件あります。ログインして提出してください。\n\n{url}",
        params={
            "stage": Choice({
                "before": "月次報告の提出期限が近づいています。",
                "due": "本日は月次報告の提出期限です。",
                "overdue": "月次報告の提出期限を過ぎています。",
            }),
            "count": Count(),
            "path": AppPath(),
        },
    ),
    # The escalation step of the reminders: the centre hears of a late facility (F-REMIND).
    "report_overdue_centre": MailTemplate(
        subject="【見守り】提出期限を過ぎた月次報告があります",
        body="提出期限を過ぎても提出されていない月次報告が{count}件あります。ログインして確認してください。\n\n{url}",
        params={"count": Count(), "path": AppPath()},
    ),
}


def render(template_key: str, params: dict, public_url: str) -> tuple[str, str]:
    """(subject, body) of a template, or :class:`MailTemplateError` for anything not allowed."""
    template = TEMPLATES.get(template_key)
    if template is None:
        raise MailTemplateError(f"unknown mail template {template_key!r}")
    missing = set(template.params) - set(params)
    extra = set(params) - set(template.params)
    if missing or extra:
        raise MailTemplateError(
            f"template {template_key!r} takes exactly {sorted(template.params)}; "
            f"missing {sorted(missing)}, not allowed {sorted(extra)}"
        )
    fields = {name: kind.clean(name, params[name]) for name, kind in template.params.items()}
    if "path" in fields:
        fields["url"] = public_url.rstrip("/") + fields["path"]
    return template.subject, template.body.format(**fields) + FOOTER
