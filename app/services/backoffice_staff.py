"""Staff accounts of the back office: creating them, signing in with a second factor, the session
check every request makes, and the staff action log.

Signing in is two steps: the password (argon2id, through the ``PasswordHasher`` port), then a
time-based code from the staff member's authenticator (``SecondFactor``). A code is accepted
once: its time step is kept with a compare-and-set, so a code seen over a shoulder cannot be
replayed. Wrong passwords and wrong codes count together; after ``MAX_WRONG`` the account is
locked for ``LOCK_MINUTES``. Every step, good or bad, is written to the action log.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from app.domain.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from app.domain.staff import (ACTIVE, DISABLED, LOCK_MINUTES, MAX_WRONG, StaffMember, check_reason, check_roles,
                              check_username)
from app.domain.zone import UTC
from app.services.backoffice_ports import BackofficeDeps, StaffAction

MAX_ID = 2 ** 63 - 1  # a BIGINT id

MIN_PASSWORD = 12
WRONG = ("staff_sign_in_failed", "用户名、密码或动态验证码错误")


@dataclass(frozen=True)
class Where:
    """Where a staff action came from (the request), for the log."""

    request_id: str | None = None
    client_ip: str | None = None


@dataclass(frozen=True)
class StaffSession:
    """What the browser's signed session keeps: the account, its epoch then, and two moments."""

    staff_id: int
    epoch: int
    since: str  # ISO, UTC
    seen: str

    def as_dict(self) -> dict:
        return {"id": self.staff_id, "epoch": self.epoch, "since": self.since, "seen": self.seen}

    @classmethod
    def from_dict(cls, data: dict | None) -> "StaffSession | None":
        try:
            return cls(int(data["id"]), int(data["epoch"]), str(data["since"]), str(data["seen"]))
        except (TypeError, KeyError, ValueError):
            return None


def record(deps: BackofficeDeps, actor: StaffMember | str, action: str, target: str, *, reason: str | None = None,
           outcome: str = "done", where: Where = Where(), **detail) -> None:
    """Write one line of the staff action log (its own transaction)."""
    with deps.store() as store:
        store.record_action(_action(deps, actor, action, target, reason, outcome, where, detail))
        store.commit()


def _action(deps, actor, action, target, reason, outcome, where, detail) -> StaffAction:
    staff_id = actor.id if isinstance(actor, StaffMember) else None
    name = actor.username if isinstance(actor, StaffMember) else actor
    return StaffAction(actor=_fit(name, 64), action=_fit(action, 64), target=_fit(target, 160),
                       at=deps.clock.now(), outcome=outcome, reason=_fit(reason, 500), detail=detail,
                       staff_id=staff_id, request_id=_fit(where.request_id, 64), client_ip=_fit(where.client_ip, 64))


def _fit(text: str | None, size: int) -> str | None:
    """What a refused request typed goes into the log as far as the column holds (no NUL: text cannot)."""
    if text is None:
        return None
    return str(text).replace("\x00", "").encode("utf-8", "replace").decode("utf-8", "replace")[:size]


def create_staff(username: str, display_name: str, password: str, roles: list[str], deps: BackofficeDeps,
                 actor: str) -> tuple[StaffMember, str]:
    """Add a staff account; answers it and the second factor's provisioning URI (shown once)."""
    name = check_username(username)
    display = (display_name or "").strip()
    if not 1 <= len(display) <= 32:
        raise InvalidInput("staff_name_invalid", "请填写姓名（不超过32个字）", field="display_name")
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput("staff_password_weak", f"密码至少{MIN_PASSWORD}位", field="password")
    member = StaffMember(username=name, display_name=display, roles=check_roles(roles),
                         password_hash=deps.hasher.hash(password))
    secret = deps.second_factor.new_secret()
    with deps.store() as store:
        if store.get_by_username(name) is not None:
            raise Conflict("staff_exists", "该用户名已存在", field="username")
        member.id = store.add(member, secret, deps.clock.now())
        store.record_action(_action(deps, actor, "staff.create", f"staff:{name}", None, "done", Where(),
                                    {"roles": sorted(member.roles)}))
        store.commit()
    return member, deps.second_factor.provisioning_uri(secret, name)


def _member(store, username: str) -> StaffMember:
    member = store.get_by_username(check_username(username))
    if member is None:
        raise NotFound("staff_not_found", "没有该工作人员账号", field="username")
    return member


def change_staff(username: str, deps: BackofficeDeps, actor: str, reason: str, *, grant: list[str] = (),
                 revoke: list[str] = (), disable: bool = False, enable: bool = False,
                 new_password: str | None = None, new_second_factor: bool = False) -> str | None:
    """Grant or take away roles, disable or enable, reset the password or the second factor.

    Anything but granting ends the account's open sessions at once. Answers the new provisioning
    URI when the second factor was reset."""
    reason = check_reason(reason)
    uri = None
    with deps.store() as store:
        member = _member(store, username)
        roles = (set(member.roles) | set(check_roles(list(grant)) if grant else ())) - \
            set(check_roles(list(revoke)) if revoke else ())
        changes: dict = {"roles": frozenset(roles)}
        if disable or enable:
            changes["status"] = DISABLED if disable else ACTIVE
        if new_password is not None:
            if len(new_password) < MIN_PASSWORD:
                raise InvalidInput("staff_password_weak", f"密码至少{MIN_PASSWORD}位", field="password")
            changes["password_hash"] = deps.hasher.hash(new_password)
        if new_second_factor:
            secret = deps.second_factor.new_secret()
            changes["totp_secret"] = secret
            uri = deps.second_factor.provisioning_uri(secret, member.username)
        ends = bool(revoke or disable or new_password is not None or new_second_factor)
        store.update(member.id, end_sessions=ends, at=deps.clock.now(), **changes)
        store.record_action(_action(deps, actor, "staff.change", f"staff:{member.username}", reason, "done", Where(),
                                    {"grant": sorted(grant), "revoke": sorted(revoke), "disable": disable,
                                     "enable": enable, "password_reset": new_password is not None,
                                     "second_factor_reset": new_second_factor}))
        store.commit()
    return uri


def list_staff(deps: BackofficeDeps) -> list[StaffMember]:
    with deps.store() as store:
        return store.list_all()


def _wrong(store, deps: BackofficeDeps, member: StaffMember, action: str, where: Where) -> None:
    failed = member.failed_attempts + 1
    now = deps.clock.now()
    locked = now + timedelta(minutes=LOCK_MINUTES) if failed >= MAX_WRONG else None
    store.save_sign_in_state(member.id, 0 if locked else failed, locked)
    store.record_action(_action(deps, member, action, f"staff:{member.username}", None, "denied", where,
                                {"failed_attempts": failed, "locked": locked is not None}))
    store.commit()


def check_password(username: str, password: str, deps: BackofficeDeps, where: Where = Where()) -> tuple[int, int]:
    """Step one: the password. Answers (staff id, session epoch) to carry to the second factor."""
    with deps.store() as store:
        try:
            member = store.get_by_username(check_username(username))
        except InvalidInput:
            member = None
        if member is None:
            deps.hasher.hash(password or "-")  # the same work as for a known name: timing tells nothing
            store.record_action(_action(deps, (username or "")[:32] or "?", "staff.sign_in", "staff:?", None,
                                        "denied", where, {"step": "password", "unknown_user": True}))
            store.commit()
            raise Unauthenticated(*WRONG)
        member.check_can_sign_in(deps.clock.now())
        if not deps.hasher.verify(member.password_hash, password or ""):
            _wrong(store, deps, member, "staff.sign_in", where)
            raise Unauthenticated(*WRONG)
        return member.id, member.session_epoch


def check_second_factor(staff_id: int, epoch: int, code: str, deps: BackofficeDeps,
                        where: Where = Where()) -> StaffSession:
    """Step two: the authenticator's code, used once. Answers the session to keep."""
    now = deps.clock.now()
    with deps.store() as store:
        member = store.get(staff_id)
        if member is None or member.session_epoch != epoch:
            raise Unauthenticated("staff_sign_in_again", "请重新登录")
        member.check_can_sign_in(now)
        step = deps.second_factor.matching_step(store.totp_secret(staff_id), (code or "").strip(), now)
        if step is None or not store.use_totp_step(staff_id, step):
            _wrong(store, deps, member, "staff.second_factor", where)
            raise Unauthenticated(*WRONG)
        store.save_sign_in_state(staff_id, 0, None)
        store.record_action(_action(deps, member, "staff.sign_in", f"staff:{member.username}", None, "done", where,
                                    {}))
        store.commit()
    stamp = now.astimezone(UTC).isoformat()
    return StaffSession(staff_id, epoch, stamp, stamp)


def current_staff(session: StaffSession | None, deps: BackofficeDeps) -> tuple[StaffMember, StaffSession]:
    """The staff member of a session, read afresh; Unauthenticated when the session no longer holds.

    Answers the session with ``seen`` moved to now (the idle timeout counts from there)."""
    if session is None:
        raise Unauthenticated("staff_sign_in_required", "请先登录")
    now = deps.clock.now()
    since, seen = datetime.fromisoformat(session.since), datetime.fromisoformat(session.seen)
    if now - seen > deps.rules.idle or now - since > deps.rules.absolute:
        raise Unauthenticated("staff_session_expired", "登录已超时，请重新登录")
    with deps.store() as store:
        member = store.get(session.staff_id)
    if member is None or member.status != ACTIVE or member.session_epoch != session.epoch:
        raise Unauthenticated("staff_session_ended", "登录已失效（账号或岗位已变更），请重新登录")
    return member, replace(session, seen=now.astimezone(UTC).isoformat())


def list_actions(deps: BackofficeDeps, actor: str | None = None, action: str | None = None,
                 target: str | None = None, before_id: int | None = None, limit: int = 100) -> list[StaffAction]:
    """The staff action log, newest first."""
    if any("\x00" in (text or "") for text in (actor, action, target)):
        return []  # nothing is logged with a NUL in it
    if before_id is not None and not 0 < before_id <= MAX_ID:
        before_id = None  # beyond any line's number: from the newest
    with deps.store() as store:
        return store.actions(actor or None, action or None, target or None, before_id, min(max(limit, 1), 500))
