"""The back office's store over SQLAlchemy Core (staff accounts, the staff action log) and the
second factor over pyotp (RFC 6238 time-based codes).

The second-factor secret is stored encrypted with the field cipher, like personal data.
"""
from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Row

from app.adapters import tables as t
from app.adapters.connection_scope import OneConnection
from app.adapters.crypto import FieldCipher
from app.domain.staff import ACTIVE, ROLES, StaffMember
from app.services.backoffice_ports import StaffAction

TOTP_CONTEXT = "staff_totp"


def _member(row: Row) -> StaffMember:
    return StaffMember(username=row.username, display_name=row.display_name,
                       roles=frozenset(r for r in row.roles.split(",") if r in ROLES), status=row.status,
                       session_epoch=row.session_epoch, failed_attempts=row.failed_attempts,
                       locked_until=row.locked_until, password_hash=row.password_hash,
                       last_totp_step=row.last_totp_step, id=row.id)


def _roles(roles: frozenset[str]) -> str:
    return ",".join(r for r in ROLES if r in roles)


class SqlStaffStore(OneConnection):
    """One connection, one transaction; leaving ``with`` without ``commit()`` rolls back."""

    def __init__(self, engine: Engine, cipher: FieldCipher):
        super().__init__(engine)
        self.cipher = cipher

    def add(self, member: StaffMember, totp_secret: str, at: datetime) -> int:
        return self.conn.execute(insert(t.staff_account).values(
            username=member.username, display_name=member.display_name, password_hash=member.password_hash,
            totp_secret_enc=self.cipher.encrypt(totp_secret, TOTP_CONTEXT), roles=_roles(member.roles),
            status=member.status or ACTIVE, session_epoch=0, failed_attempts=0, last_totp_step=0,
            created_at=at, updated_at=at).returning(t.staff_account.c.id)).scalar_one()

    def get(self, staff_id: int) -> StaffMember | None:
        row = self.conn.execute(select(t.staff_account).where(t.staff_account.c.id == staff_id)).first()
        return _member(row) if row else None

    def get_by_username(self, username: str) -> StaffMember | None:
        row = self.conn.execute(select(t.staff_account).where(t.staff_account.c.username == username)).first()
        return _member(row) if row else None

    def list_all(self) -> list[StaffMember]:
        return [_member(r) for r in self.conn.execute(select(t.staff_account).order_by(t.staff_account.c.username))]

    def totp_secret(self, staff_id: int) -> str:
        blob = self.conn.execute(select(t.staff_account.c.totp_secret_enc)
                                 .where(t.staff_account.c.id == staff_id)).scalar_one()
        return self.cipher.decrypt(blob, TOTP_CONTEXT)

    def save_sign_in_state(self, staff_id: int, failed_attempts: int, locked_until: datetime | None) -> None:
        self.conn.execute(update(t.staff_account).where(t.staff_account.c.id == staff_id)
                          .values(failed_attempts=failed_attempts, locked_until=locked_until))

    def use_totp_step(self, staff_id: int, step: int) -> bool:
        c = t.staff_account.c
        moved = self.conn.execute(update(t.staff_account).where(c.id == staff_id, c.last_totp_step < step)
                                  .values(last_totp_step=step))
        return moved.rowcount == 1

    def update(self, staff_id: int, *, roles=None, status=None, password_hash=None, totp_secret=None,
               end_sessions: bool = False, at: datetime) -> None:
        values: dict = {"updated_at": at}
        if roles is not None:
            values["roles"] = _roles(roles)
        if status is not None:
            values["status"] = status
        if password_hash is not None:
            values["password_hash"] = password_hash
        if totp_secret is not None:
            values["totp_secret_enc"] = self.cipher.encrypt(totp_secret, TOTP_CONTEXT)
            values["last_totp_step"] = 0
        if end_sessions:
            values["session_epoch"] = t.staff_account.c.session_epoch + 1
        if status == ACTIVE:
            values.update(failed_attempts=0, locked_until=None)
        self.conn.execute(update(t.staff_account).where(t.staff_account.c.id == staff_id).values(**values))

    def record_action(self, action: StaffAction) -> None:
        self.conn.execute(insert(t.staff_action).values(
            at=action.at, staff_id=action.staff_id, actor=action.actor[:64], action=action.action[:64],
            target=action.target[:160], outcome=action.outcome, reason=action.reason, detail=action.detail,
            request_id=action.request_id, client_ip=action.client_ip))

    def actions(self, actor, action, target, before_id, limit) -> list[StaffAction]:
        c = t.staff_action.c
        q = select(t.staff_action).order_by(c.id.desc()).limit(limit)
        if actor:
            q = q.where(c.actor == actor)
        if action:
            q = q.where(c.action.startswith(action))
        if target:
            q = q.where(c.target == target)
        if before_id:
            q = q.where(c.id < before_id)
        return [StaffAction(actor=r.actor, action=r.action, target=r.target, at=r.at, outcome=r.outcome,
                            reason=r.reason, detail=r.detail or {}, staff_id=r.staff_id, request_id=r.request_id,
                            client_ip=r.client_ip, id=r.id) for r in self.conn.execute(q)]


class PyotpSecondFactor:
    """RFC 6238 codes (6 digits, 30 s) as every authenticator app and hardware token makes them."""

    def __init__(self, issuer: str = "社保费征收后台"):
        self.issuer = issuer

    def new_secret(self) -> str:
        return pyotp.random_base32()

    def provisioning_uri(self, secret: str, username: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=self.issuer)

    def matching_step(self, secret: str, code: str, now: datetime) -> int | None:
        if not (len(code) == 6 and code.isdigit()):
            return None
        totp = pyotp.TOTP(secret)
        current = totp.timecode(now)
        for step in (current - 1, current, current + 1):  # one step of clock drift either side
            if hmac.compare_digest(totp.generate_otp(step), code):
                return step
        return None
