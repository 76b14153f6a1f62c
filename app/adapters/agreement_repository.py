"""Filed bank accounts, debit agreements with their history, and payment passwords (SQLAlchemy Core).

Account numbers and holders are encrypted (``FieldCipher``) and found by a keyed blind index.
An agreement is saved as a compare-and-set on the version it was read at: the UPDATE matches
nothing when someone else saved first, and the caller learns it from the row count. Its
unsaved history events are written in the same transaction.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from app.adapters import tables as t
from app.adapters.crypto import FieldCipher
from app.adapters.integrity import broke, refused_as
from app.domain.agreements import LIVE, AgreementEvent, DebitAgreement, auto_pay_taken
from app.domain.bank_accounts import BankAccount, bank_account_exists
from app.domain.payment_password import PaymentPassword

_ACCOUNT_NO, _HOLDER, _HOLDER_ID = "bank_account.account_no", "bank_account.holder_name", "bank_account.holder_id"


class SqlBankAccounts:
    def __init__(self, conn: Connection, cipher: FieldCipher):
        self.conn, self.cipher = conn, cipher

    def _account(self, r: Row) -> BankAccount:
        c = self.cipher
        return BankAccount(id=r.id, person_id=r.person_id, bank_code=r.bank_code, account_kind=r.account_kind,
                           account_no=c.decrypt(r.account_no_enc, _ACCOUNT_NO),
                           holder_name=c.decrypt(r.holder_name_enc, _HOLDER), holder_is_other=r.holder_is_other,
                           holder_id_type=r.holder_id_type,
                           holder_id_number=c.decrypt(r.holder_id_number_enc, _HOLDER_ID)
                           if r.holder_id_number_enc else None,
                           payer_account_id=r.payer_account_id, created_at=r.created_at, removed_at=r.removed_at)

    def index_of(self, account_no: str) -> str:
        return self.cipher.blind_index("bank_account", account_no)

    def add(self, a: BankAccount) -> BankAccount:
        """Insert; the same account filed for the person at the same moment by another request answers 409."""
        c = self.cipher
        with refused_as("uq_bank_account_live_number", ("bank_account.person_id", "bank_account.account_no_index"),
                        bank_account_exists):
            a.id = self.conn.execute(insert(t.bank_account).values(
                person_id=a.person_id, payer_account_id=a.payer_account_id, bank_code=a.bank_code,
                account_kind=a.account_kind, account_no_index=self.index_of(a.account_no),
                account_no_enc=c.encrypt(a.account_no, _ACCOUNT_NO), holder_name_enc=c.encrypt(a.holder_name, _HOLDER),
                holder_is_other=a.holder_is_other, holder_id_type=a.holder_id_type,
                holder_id_number_enc=c.encrypt(a.holder_id_number, _HOLDER_ID) if a.holder_id_number else None,
                created_at=a.created_at).returning(t.bank_account.c.id)).scalar_one()
        return a

    def get(self, account_id: int) -> BankAccount | None:
        row = self.conn.execute(select(t.bank_account).where(t.bank_account.c.id == account_id)).first()
        return self._account(row) if row else None

    def find_live(self, person_id: int, account_no: str) -> BankAccount | None:
        row = self.conn.execute(select(t.bank_account).where(
            t.bank_account.c.person_id == person_id, t.bank_account.c.account_no_index == self.index_of(account_no),
            t.bank_account.c.removed_at.is_(None))).first()
        return self._account(row) if row else None

    def list_for_person(self, person_id: int) -> list[BankAccount]:
        rows = self.conn.execute(select(t.bank_account).where(t.bank_account.c.person_id == person_id,
                                                              t.bank_account.c.removed_at.is_(None))
                                 .order_by(t.bank_account.c.id))
        return [self._account(r) for r in rows]

    def remove(self, account_id: int, at: datetime) -> bool:
        return self.conn.execute(update(t.bank_account).where(t.bank_account.c.id == account_id,
                                                              t.bank_account.c.removed_at.is_(None))
                                 .values(removed_at=at)).rowcount == 1


def _one_auto_pay():
    """The unique index behind 自动缴费 refusing a second live agreement with it on (two requests at once)."""
    return refused_as("uq_debit_agreement_auto_pay", ("debit_agreement.person_id",), auto_pay_taken)


_AGREEMENT_FIELDS = ("payer_person_id", "person_id", "bank_account_id", "mode", "request_id", "agreement_no", "state",
                     "auto_pay", "reason", "created_at", "updated_at")


class SqlAgreements:
    def __init__(self, conn: Connection):
        self.conn = conn

    @staticmethod
    def _agreement(r: Row) -> DebitAgreement:
        return DebitAgreement(id=r.id, version=r.version, **{f: getattr(r, f) for f in _AGREEMENT_FIELDS})

    def add(self, a: DebitAgreement) -> DebitAgreement:
        with _one_auto_pay():
            a.id = self.conn.execute(insert(t.debit_agreement).values(
                version=0, **{f: getattr(a, f) for f in _AGREEMENT_FIELDS}).returning(t.debit_agreement.c.id)
            ).scalar_one()
        self._write_events(a)
        return a

    def save(self, a: DebitAgreement) -> bool:
        """Compare-and-set on the version read; False (nothing written) when someone saved first."""
        with _one_auto_pay():
            moved = self.conn.execute(update(t.debit_agreement).where(t.debit_agreement.c.id == a.id,
                                                                      t.debit_agreement.c.version == a.version)
                                      .values(version=a.version + 1, **{f: getattr(a, f) for f in _AGREEMENT_FIELDS}))
        if moved.rowcount != 1:
            return False
        a.version += 1
        self._write_events(a)
        return True

    def _write_events(self, a: DebitAgreement) -> None:
        if a.events:
            self.conn.execute(insert(t.debit_agreement_event), [
                {"agreement_id": a.id, "kind": e.kind, "detail": e.detail, "version": a.version, "at": e.at}
                for e in a.events])
            a.events = []

    def get(self, agreement_id: int) -> DebitAgreement | None:
        row = self.conn.execute(select(t.debit_agreement).where(t.debit_agreement.c.id == agreement_id)).first()
        return self._agreement(row) if row else None

    def list_for_persons(self, person_ids: list[int]) -> list[DebitAgreement]:
        """Agreements signed by these persons or paying for them."""
        rows = self.conn.execute(select(t.debit_agreement).where(
            t.debit_agreement.c.person_id.in_(person_ids) | t.debit_agreement.c.payer_person_id.in_(person_ids))
            .order_by(t.debit_agreement.c.id))
        return [self._agreement(r) for r in rows]

    def live_auto_pay_for(self, person_id: int) -> DebitAgreement | None:
        row = self.conn.execute(select(t.debit_agreement).where(
            t.debit_agreement.c.person_id == person_id, t.debit_agreement.c.auto_pay,
            t.debit_agreement.c.state.in_(LIVE))).first()
        return self._agreement(row) if row else None

    def find_live_by_number(self, agreement_no: str) -> DebitAgreement | None:
        row = self.conn.execute(select(t.debit_agreement).where(t.debit_agreement.c.agreement_no == agreement_no,
                                                                t.debit_agreement.c.state.in_(LIVE))).first()
        return self._agreement(row) if row else None

    def list_in_state(self, state: str, limit: int) -> list[DebitAgreement]:
        rows = self.conn.execute(select(t.debit_agreement).where(t.debit_agreement.c.state == state)
                                 .order_by(t.debit_agreement.c.id).limit(limit))
        return [self._agreement(r) for r in rows]

    def history(self, agreement_id: int) -> list[AgreementEvent]:
        rows = self.conn.execute(select(t.debit_agreement_event).where(
            t.debit_agreement_event.c.agreement_id == agreement_id).order_by(t.debit_agreement_event.c.id))
        return [AgreementEvent(r.kind, r.at, r.detail) for r in rows]


_PASSWORD_FIELDS = ("password_hash", "enabled", "failed_attempts", "locked_until", "code_hash", "code_expires_at",
                    "code_attempts")


class SqlPaymentPasswords:
    def __init__(self, conn: Connection):
        self.conn = conn

    def get(self, person_id: int) -> PaymentPassword | None:
        r = self.conn.execute(select(t.payment_password).where(t.payment_password.c.person_id == person_id)).first()
        return PaymentPassword(id=r.id, person_id=r.person_id, version=r.version,
                               **{f: getattr(r, f) for f in _PASSWORD_FIELDS}) if r else None

    def save(self, p: PaymentPassword, at: datetime) -> bool:
        """Insert the first time; afterwards a compare-and-set on the version read."""
        values = {f: getattr(p, f) for f in _PASSWORD_FIELDS}
        if p.id is None:
            try:
                p.id = self.conn.execute(insert(t.payment_password).values(
                    person_id=p.person_id, version=0, updated_at=at, **values).returning(t.payment_password.c.id)
                ).scalar_one()
            except IntegrityError as error:  # another request's first save won: as a lost compare-and-set
                if not broke(error, "uq_payment_password_person_id", ("payment_password.person_id",)):
                    raise
                return False
            return True
        moved = self.conn.execute(update(t.payment_password).where(t.payment_password.c.id == p.id,
                                                                   t.payment_password.c.version == p.version)
                                  .values(version=p.version + 1, updated_at=at, **values))
        if moved.rowcount == 1:
            p.version += 1
        return moved.rowcount == 1
