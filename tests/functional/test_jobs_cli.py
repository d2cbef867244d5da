"""The operator's commands: ``jobs run``, ``jobs status``, ``mail send-test``, ``mail status``,
``mail requeue`` — as the systemd timer and the runbook use them."""

from __future__ import annotations

import pytest

from tests.functional.test_mail_delivery import SmtpServer, free_port, text_of
from webapp import migrate
from webapp.cli import main
from webapp.db import create_engine
from webapp.jobs.runner import RunLock


@pytest.fixture
def ini(scratch_url, tmp_path, monkeypatch):
    migrate.upgrade(scratch_url)
    path = tmp_path / "mimamori.ini"
    path.write_text(
        "[app:main]\nuse = egg:mimamori\n"
        f"sqlalchemy.url = {scratch_url}\n"
        "mimamori.smtp_host = 127.0.0.1\n"
        "mimamori.smtp_timeout_seconds = 5\n"
        "mimamori.mail_from = noreply@mimamori.example.jp\n"
        "mimamori.public_url = https://mimamori.example.jp\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("MIMAMORI_SESSION_SECRET", "s" * 40)
    return str(path)


@pytest.fixture
def smtp(monkeypatch):
    server = SmtpServer(free_port()).start()
    # The port arrives the way production's secrets do: from the environment.
    monkeypatch.setenv("MIMAMORI_SMTP_PORT", str(server.port))
    yield server
    server.stop()


@pytest.mark.req("F-NOTIFY")
def test_send_test_delivers_a_test_mail_and_jobs_status_shows_the_run(ini, smtp, capsys):
    assert main(["-c", ini, "mail", "send-test", "--to", "ops@city.example.jp"]) == 0
    out = capsys.readouterr().out
    assert "queued test message" in out and "OK mail.deliver: sent 1, retrying 0, failed 0" in out
    assert [m["Subject"] for m in smtp.received] == ["【見守り】テストメール"]
    assert "メールの送信設定は正しく動作しています" in text_of(smtp.received[0])

    assert main(["-c", ini, "jobs", "run"]) == 0
    assert "OK mail.deliver: sent 0" in capsys.readouterr().out
    assert len(smtp.received) == 1

    assert main(["-c", ini, "jobs", "status"]) == 0
    status = capsys.readouterr().out
    assert "mail.deliver: succeeded; last run 20" in status and "JST" in status


def test_send_test_refuses_an_unusable_address(ini, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["-c", ini, "mail", "send-test", "--to", "ops@example.jp\r\nBcc: x@example.jp"])
    assert "not a usable email address" in str(exit_info.value.code)


def test_jobs_run_while_another_runner_holds_the_lock_does_nothing_and_exits_0(ini, scratch_url, smtp, capsys):
    engine = create_engine(scratch_url)
    lock = RunLock(engine)
    assert lock.acquire()
    try:
        assert main(["-c", ini, "jobs", "run"]) == 0
    finally:
        lock.release()
        engine.dispose()
    assert capsys.readouterr().out.strip() == "jobs: another runner holds the lock; this one did nothing"
    assert main(["-c", ini, "jobs", "status"]) == 0
    assert "mail.deliver: never run" in capsys.readouterr().out


@pytest.mark.req("F-NOTIFY")
def test_smtp_down_the_runbook_commands_show_and_then_clear_it(ini, monkeypatch, capsys):
    port = free_port()
    monkeypatch.setenv("MIMAMORI_SMTP_PORT", str(port))
    monkeypatch.setenv("MIMAMORI_SMTP_PASSWORD", "not-in-any-file")
    with pytest.raises(SystemExit) as exit_info:
        main(["-c", ini, "mail", "send-test", "--to", "ops@city.example.jp"])
    assert exit_info.value.code == 1
    assert "NG mail.deliver: sent 0, retrying 1, failed 0; mail server unreachable" in capsys.readouterr().out

    assert main(["-c", ini, "mail", "status"]) == 0
    status = capsys.readouterr().out
    assert "pending=1 sent=0 failed=0" in status
    assert "pending test to ops@city.example.jp; attempts 1" in status and "ConnectionRefusedError" in status

    with pytest.raises(SystemExit) as exit_info:
        main(["-c", ini, "mail", "requeue"])
    assert "--all-failed" in str(exit_info.value.code)
    assert main(["-c", ini, "mail", "requeue", "--all-failed"]) == 0
    assert "0 failed message(s) queued again" in capsys.readouterr().out

    with pytest.raises(SystemExit) as exit_info:
        main(["-c", ini, "jobs", "run", "--only", "no.such.job"])
    assert "unknown job(s): no.such.job" in str(exit_info.value.code)
