"""Staff sign-in with a second factor, the per-request session check, CSRF and the action log (PostgreSQL)."""
from __future__ import annotations

from datetime import timedelta

from app.services import backoffice_staff
from tests.backoffice.support import PASSWORD, code, create_staff, csrf, sign_in


def log(container, action=None):
    return backoffice_staff.list_actions(container.backoffice, action=action)


def test_staff_signs_in_with_password_and_authenticator_code(app, client, runner, clock, container):
    secret = create_staff(runner, "li.si", "accept")
    answer = sign_in(client, "li.si", secret, clock)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/backoffice")
    page = client.get("/backoffice").get_data(as_text=True)
    assert "受理" in page and "退出登录" in page
    assert [a.outcome for a in log(container, "staff.sign_in")] == ["done"]
    assert log(container, "staff.create")[0].actor.startswith("cli:")


def test_wrong_second_factor_is_refused_and_logged(client, runner, clock, container):
    secret = create_staff(runner, "li.si", "accept")
    answer = sign_in(client, "li.si", secret, clock, steps=5)  # a code from 2.5 minutes ahead
    assert answer.status_code == 401 and "动态验证码错误" in answer.get_data(as_text=True)
    assert client.get("/backoffice").status_code == 302  # not signed in
    assert "/backoffice/login" in client.get("/backoffice/").headers["Location"]  # typed with a slash
    assert log(container, "staff.second_factor")[0].outcome == "denied"


def test_a_code_is_used_once(client, app, runner, clock):
    secret = create_staff(runner, "li.si", "accept")
    assert sign_in(client, "li.si", secret, clock).status_code == 302
    other = app.test_client()
    assert sign_in(other, "li.si", secret, clock).status_code == 401  # the same code, replayed


def test_wrong_password_five_times_locks_the_account(client, runner, clock):
    create_staff(runner, "li.si", "accept")
    client.get("/backoffice/login")
    for _ in range(5):
        client.post("/backoffice/login", data={"username": "li.si", "password": "wrong-password-123",
                                               "csrf_token": csrf(client)})
    answer = client.post("/backoffice/login", data={"username": "li.si", "password": PASSWORD,
                                                    "csrf_token": csrf(client)})
    assert answer.status_code == 429 and "锁定" in answer.get_data(as_text=True)


def test_a_session_stops_when_its_role_is_removed(client, runner, clock):
    secret = create_staff(runner, "li.si", "accept", "finance")
    sign_in(client, "li.si", secret, clock)
    assert client.get("/backoffice").status_code == 200
    result = runner.invoke(args=["staff", "change", "li.si", "--revoke", "finance", "--reason", "调岗"])
    assert result.exit_code == 0, result.output
    answer = client.get("/backoffice")
    assert answer.status_code == 302 and "/backoffice/login" in answer.headers["Location"]


def test_a_session_stops_when_the_account_is_disabled(client, runner, clock):
    secret = create_staff(runner, "li.si", "accept")
    sign_in(client, "li.si", secret, clock)
    runner.invoke(args=["staff", "change", "li.si", "--disable", "--reason", "离职"])
    assert client.get("/backoffice").status_code == 302


def test_an_idle_session_expires(client, runner, clock):
    secret = create_staff(runner, "li.si", "accept")
    sign_in(client, "li.si", secret, clock)
    clock.set(clock.now() + timedelta(minutes=31))
    assert client.get("/backoffice").status_code == 302


def test_a_forged_sign_in_without_csrf_token_is_refused(client, runner, clock):
    create_staff(runner, "li.si", "accept")
    answer = client.post("/backoffice/login", data={"username": "li.si", "password": PASSWORD})
    assert answer.status_code == 400 and "页面已过期" in answer.get_data(as_text=True)


def test_a_forged_logout_without_csrf_token_changes_nothing(client, runner, clock):
    secret = create_staff(runner, "li.si", "accept")
    sign_in(client, "li.si", secret, clock)
    assert client.post("/backoffice/logout", data={}).status_code == 400
    assert client.get("/backoffice").status_code == 200


def test_cli_refuses_unknown_role_and_weak_password(runner):
    assert runner.invoke(args=["staff", "create", "x.y", "--name", "某", "--role", "boss",
                               "--password", PASSWORD]).exit_code != 0
    result = runner.invoke(args=["staff", "create", "x.y", "--name", "某", "--role", "audit", "--password", "short"])
    assert result.exit_code != 0 and "staff_password_weak" in result.output


def test_the_action_log_cannot_be_rewritten(container, runner):
    import pytest
    from sqlalchemy import text

    create_staff(runner, "li.si", "accept")
    with pytest.raises(Exception, match="append-only"):
        with container.engine.begin() as conn:
            conn.execute(text("DELETE FROM staff_action"))
