"""Accounts in SQL: names, documents and phones encrypted, found through keyed blind indexes.

The unique indexes on username, document and phone are what finally decides a race between
two registrations: ``add`` answers None when the database refused the row.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from app.adapters import tables as t
from app.adapters.crypto import FieldCipher
from app.adapters.repositories import SqlUnitOfWork
from app.domain.accounts import Account

PHONE_INDEX = "account.phone"


class SqlAccounts:
    def __init__(self, conn: Connection, cipher: FieldCipher):
        self.conn, self.cipher = conn, cipher

    def _account(self, row: Row) -> Account:
        c = self.cipher
        return Account(id=row.id, username=row.username, name=c.decrypt(row.name_enc, "account.name"),
                       id_type=row.id_type, id_number=c.decrypt(row.id_number_enc, "account.id_number"),
                       gender=row.gender, nationality=row.nationality,
                       phone=c.decrypt(row.phone_enc, "account.phone") if row.phone_enc else None,
                       password_hash=row.password_hash, verified_by=row.verified_by, created_at=row.created_at,
                       person_id=row.person_id, consent_version=row.consent_version, status=row.status)

    def _one(self, where) -> Account | None:
        row = self.conn.execute(select(t.account).where(where)).first()
        return self._account(row) if row else None

    def get(self, account_id: int) -> Account | None:
        return self._one(t.account.c.id == account_id)

    def find_by_username(self, username: str) -> Account | None:
        return self._one(t.account.c.username == username)

    def find_by_phone(self, phone: str) -> Account | None:
        return self._one(t.account.c.phone_index == self.cipher.blind_index(PHONE_INDEX, phone))

    def find_by_document(self, id_type: str, id_number: str) -> Account | None:
        return self._one(t.account.c.id_number_index == self.cipher.blind_index(id_type, id_number))

    def add(self, a: Account) -> Account | None:
        c = self.cipher
        values = dict(username=a.username, id_type=a.id_type, id_number_index=c.blind_index(a.id_type, a.id_number),
                      id_number_enc=c.encrypt(a.id_number, "account.id_number"),
                      name_enc=c.encrypt(a.name, "account.name"), gender=a.gender, nationality=a.nationality,
                      phone_index=c.blind_index(PHONE_INDEX, a.phone) if a.phone else None,
                      phone_enc=c.encrypt(a.phone, "account.phone") if a.phone else None,
                      password_hash=a.password_hash, verified_by=a.verified_by, person_id=a.person_id,
                      status=a.status, consent_version=a.consent_version, created_at=a.created_at,
                      password_changed_at=a.created_at)
        nested = self.conn.begin_nested()  # a savepoint: a refused row leaves the transaction usable
        try:
            a.id = self.conn.execute(insert(t.account).values(**values).returning(t.account.c.id)).scalar_one()
        except IntegrityError:
            nested.rollback()
            return None
        nested.commit()
        return a

    def clear_phone(self, account_id: int) -> None:
        self.conn.execute(update(t.account).where(t.account.c.id == account_id).values(phone_index=None,
                                                                                       phone_enc=None))

    def set_phone(self, account_id: int, phone: str | None) -> bool:
        c = self.cipher
        nested = self.conn.begin_nested()
        try:
            self.conn.execute(update(t.account).where(t.account.c.id == account_id).values(
                phone_index=c.blind_index(PHONE_INDEX, phone) if phone else None,
                phone_enc=c.encrypt(phone, "account.phone") if phone else None))
        except IntegrityError:
            nested.rollback()
            return False
        nested.commit()
        return True

    def set_password(self, account_id: int, password_hash: str, at: datetime) -> None:
        self.conn.execute(update(t.account).where(t.account.c.id == account_id).values(
            password_hash=password_hash, password_changed_at=at))

    def record_consent(self, account_id: int, document: str, version: str, at: datetime) -> None:
        self.conn.execute(insert(t.account_consent).values(account_id=account_id, document=document, version=version,
                                                           agreed_at=at))
        self.conn.execute(update(t.account).where(t.account.c.id == account_id).values(consent_version=version))

    def link_person(self, account_id: int, person_id: int) -> None:
        self.conn.execute(update(t.account).where(t.account.c.id == account_id, t.account.c.person_id.is_(None))
                          .values(person_id=person_id))


class SqlAccountsUnitOfWork(SqlUnitOfWork):
    """The core unit of work plus the accounts."""

    def __enter__(self) -> "SqlAccountsUnitOfWork":
        super().__enter__()
        if self._depth == 1:
            self.accounts = SqlAccounts(self.conn, self.cipher)
        return self
