"""SQLAlchemy Core repositories and the unit of work that holds one connection and transaction.

Core rather than the ORM: the domain classes stay plain, state changes are explicit
``UPDATE ... WHERE state = :expected`` compare-and-sets, and bulk paths share the same tables.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterable

from sqlalchemy import BigInteger, Engine, any_, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from app.adapters import tables as t
from app.adapters.crypto import FieldCipher
from app.adapters.integrity import broke, check_broken, refused_as
from app.adapters.call_repository import SqlProviderCalls
from app.adapters.order_repository import SqlOrders
from app.adapters.lookback_repository import SqlLookback
from app.adapters.agreement_repository import SqlAgreements, SqlBankAccounts, SqlPaymentPasswords
from app.adapters.personal_data_log import PersonalDataReads
from app.adapters.refund_application_repository import SqlRefundApplications
from app.domain.errors import Conflict
from app.domain.model import (LIVE_STATES, check_move, Assessment, ContributionChoice, Enrollment, Person,
                              choice_exists)
from app.domain.periods import Month
from app.services import events


# Statements every payer request runs, built once (their values travel as parameters): building a
# statement and its cache key costs more Python than running it.
_PERSON_BY_ID = select(t.person).where(t.person.c.id == bindparam("w_id"))
_PERSON_EXISTS = select(t.person.c.id).where(t.person.c.id == bindparam("w_id"))
_PERSON_BY_INDEX = select(t.person).where(t.person.c.id_number_index == bindparam("w_index"))
_ENROLLMENT_BY_ID = select(t.enrollment).where(t.enrollment.c.id == bindparam("w_id"))
_ENROLLMENTS_OF = select(t.enrollment).where(t.enrollment.c.person_id == bindparam("w_person_id")).order_by(
    t.enrollment.c.id)
_CHOICES_OF = (select(t.contribution_choice).where(t.contribution_choice.c.enrollment_id == bindparam("w_id"))
               .order_by(t.contribution_choice.c.effective_month, t.contribution_choice.c.id))
_a = t.assessment.c
_ASSESSMENTS = select(t.assessment).order_by(_a.period_start, _a.id)
_ASSESSMENTS_BY_ID = _ASSESSMENTS.where(_a.id.in_(bindparam("w_ids", expanding=True)))
_ASSESSMENTS_OF = _ASSESSMENTS.where(_a.enrollment_id == bindparam("w_id"))
_LIVE_PERIOD_STARTS = select(_a.period_start).where(_a.enrollment_id == bindparam("w_id"), _a.state.in_(LIVE_STATES),
                                                    _a.kind != "special")
_ADD_ASSESSMENT = insert(t.assessment).returning(_a.id)
# a compare-and-set of states: SET from the parameters' column names (state and what moves with it)
# PostgreSQL takes the ids as one array (``= ANY``): an expanding IN is rewritten for every call.
_IDS = {"postgresql": _a.id == any_(bindparam("w_ids", type_=postgresql.ARRAY(BigInteger))),
        "sqlite": _a.id.in_(bindparam("w_ids", expanding=True))}
_MOVE = {name: update(t.assessment).where(ids, _a.state == bindparam("w_expected")) for name, ids in _IDS.items()}
_MOVE_RETURNING_REGIONS = {name: move.returning(_a.id, _a.region) for name, move in _MOVE.items()}
# inline: no implicit RETURNING of the new id, which nobody reads (a round trip's result set, and its columns described)
_AUDIT = insert(t.audit_event).inline()


def _insert_new(conn: Connection, table, unique_column: str):
    """An INSERT that skips a row whose unique key is there already: PostgreSQL waits for a concurrent
    insert of the same key to commit and then skips, where a plain INSERT would abort the transaction."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=[unique_column])


class SqlPersons:
    """Persons, decrypted; within one unit of work a person is read and decrypted once."""

    def __init__(self, conn: Connection, cipher: FieldCipher, reads: PersonalDataReads | None = None):
        self.conn, self.cipher = conn, cipher
        self.reads = reads if reads is not None else PersonalDataReads()
        self._seen: dict[int, Person] = {}

    def _person(self, row: Row) -> Person:
        c = self.cipher
        # every decryption is a read of personal data: the unit of work writes it to the access log
        self.reads.record(row.id, ("id_number", "name", "phone") if row.phone_enc else ("id_number", "name"))
        person = Person(id=row.id, id_type=row.id_type, id_number=c.decrypt(row.id_number_enc, "person.id_number"),
                        name=c.decrypt(row.name_enc, "person.name"),
                        phone=c.decrypt(row.phone_enc, "person.phone") if row.phone_enc else None)
        self._seen[person.id] = person
        return person

    def get(self, person_id: int) -> Person | None:
        if person_id in self._seen:
            return self._seen[person_id]
        row = self.conn.execute(_PERSON_BY_ID, {"w_id": person_id}).first()
        return self._person(row) if row else None

    def exists(self, person_id: int) -> bool:
        return person_id in self._seen or self.conn.execute(_PERSON_EXISTS, {"w_id": person_id}).first() is not None

    def find_by_document(self, id_type: str, id_number: str) -> Person | None:
        index = self.cipher.blind_index(id_type, id_number)
        row = self.conn.execute(_PERSON_BY_INDEX, {"w_index": index}).first()
        return self._person(row) if row else None

    def add(self, person: Person) -> Person | None:
        """Insert; None when the document is already registered (by another request at the same moment)."""
        c = self.cipher
        person.id = self.conn.execute(_insert_new(self.conn, t.person, "id_number_index").values(
            id_type=person.id_type, id_number_index=c.blind_index(person.id_type, person.id_number),
            id_number_enc=c.encrypt(person.id_number, "person.id_number"),
            name_enc=c.encrypt(person.name, "person.name"),
            phone_enc=c.encrypt(person.phone, "person.phone") if person.phone else None,
            created_at=func.now()).returning(t.person.c.id)).scalar_one_or_none()
        return person if person.id is not None else None

    def update_contact(self, person: Person) -> None:
        self.conn.execute(update(t.person).where(t.person.c.id == person.id).values(
            phone_enc=self.cipher.encrypt(person.phone, "person.phone") if person.phone else None))
        self._seen.pop(person.id, None)


def _enrollment(row: Row) -> Enrollment:
    return Enrollment(id=row.id, person_id=row.person_id, insurance=row.insurance, region=row.region,
                      category=row.category, insured_number=row.insured_number,
                      start_month=Month.parse(row.start_month), status=row.status, source_bureau=row.source_bureau)


class SqlEnrollments:
    def __init__(self, conn: Connection):
        self.conn = conn

    def get(self, enrollment_id: int) -> Enrollment | None:
        row = self.conn.execute(_ENROLLMENT_BY_ID, {"w_id": enrollment_id}).first()
        return _enrollment(row) if row else None

    def get_by_insured_number(self, insured_number: str) -> Enrollment | None:
        row = self.conn.execute(select(t.enrollment).where(t.enrollment.c.insured_number == insured_number)).first()
        return _enrollment(row) if row else None

    def list_for_person(self, person_id: int) -> list[Enrollment]:
        return [_enrollment(r) for r in self.conn.execute(_ENROLLMENTS_OF, {"w_person_id": person_id})]

    def add(self, e: Enrollment) -> Enrollment | None:
        """Insert; None when the insured number is already there (added by another request at the same moment)."""
        e.id = self.conn.execute(_insert_new(self.conn, t.enrollment, "insured_number").values(
            person_id=e.person_id, insurance=e.insurance, region=e.region, category=e.category,
            insured_number=e.insured_number, start_month=str(e.start_month), status=e.status,
            source_bureau=e.source_bureau, created_at=func.now()).returning(t.enrollment.c.id)).scalar_one_or_none()
        return e if e.id is not None else None

    def update(self, e: Enrollment) -> None:
        self.conn.execute(update(t.enrollment).where(t.enrollment.c.id == e.id).values(
            status=e.status, start_month=str(e.start_month), source_bureau=e.source_bureau))


def _choice(row: Row) -> ContributionChoice:
    return ContributionChoice(id=row.id, enrollment_id=row.enrollment_id,
                              effective_month=Month.parse(row.effective_month), base_fen=row.base_fen,
                              grade_code=row.grade_code, batch_debit_allowed=row.batch_debit_allowed,
                              created_at=row.created_at, voided_at=row.voided_at)


class SqlChoices:
    def __init__(self, conn: Connection):
        self.conn = conn

    def list_for_enrollment(self, enrollment_id: int) -> list[ContributionChoice]:
        return [_choice(r) for r in self.conn.execute(_CHOICES_OF, {"w_id": enrollment_id})]

    def add(self, c: ContributionChoice) -> ContributionChoice:
        """Insert; a choice for the same month made at the same moment by another request answers 409."""
        with refused_as("uq_contribution_choice_live_month",
                        ("contribution_choice.enrollment_id", "contribution_choice.effective_month"),
                        lambda: choice_exists(c.effective_month)):
            c.id = self.conn.execute(insert(t.contribution_choice).values(
                enrollment_id=c.enrollment_id, effective_month=str(c.effective_month), base_fen=c.base_fen,
                grade_code=c.grade_code, batch_debit_allowed=c.batch_debit_allowed,
                created_at=c.created_at).returning(t.contribution_choice.c.id)).scalar_one()
        return c

    def void(self, choice_id: int, at: datetime) -> bool:
        result = self.conn.execute(update(t.contribution_choice)
                                   .where(t.contribution_choice.c.id == choice_id,
                                          t.contribution_choice.c.voided_at.is_(None))
                                   .values(voided_at=at))
        return result.rowcount == 1


_ASSESSMENT_FIELDS = ("enrollment_id", "person_id", "employer_id", "insurance", "region", "period_start",
                      "period_end", "amount_fen", "kind", "notice_number", "state", "base_fen", "rate",
                      "grade_code", "choice_id", "subsidy_fen", "reason", "declared_at", "paid_at")


def assessment_from_row(row: Row) -> Assessment:
    return Assessment(id=row.id, **{name: getattr(row, name) for name in _ASSESSMENT_FIELDS})


class SqlAssessments:
    def __init__(self, conn: Connection):
        self.conn = conn
        self._dialect = "postgresql" if conn.dialect.name == "postgresql" else "sqlite"

    def _list(self, *where) -> list[Assessment]:
        rows = self.conn.execute(select(t.assessment).where(*where).order_by(t.assessment.c.period_start,
                                                                             t.assessment.c.id))
        return [assessment_from_row(r) for r in rows]

    def list_for_enrollment(self, enrollment_id: int) -> list[Assessment]:
        return [assessment_from_row(r) for r in self.conn.execute(_ASSESSMENTS_OF, {"w_id": enrollment_id})]

    def list_by_notice(self, notice_number: str) -> list[Assessment]:
        return self._list(t.assessment.c.notice_number == notice_number)

    def get_many(self, ids: list[int]) -> list[Assessment]:
        return [assessment_from_row(r) for r in self.conn.execute(_ASSESSMENTS_BY_ID, {"w_ids": list(ids)})]

    def live_period_starts(self, enrollment_id: int) -> set[date]:
        return {r.period_start for r in self.conn.execute(_LIVE_PERIOD_STARTS, {"w_id": enrollment_id})}

    def add_many(self, assessments: Iterable[Assessment]) -> list[Assessment]:
        """Insert; a period declared at the same moment by another request answers 409, not a crash."""
        added = []
        try:
            for a in assessments:
                a.id = self.conn.execute(_ADD_ASSESSMENT,
                                         {name: getattr(a, name) for name in _ASSESSMENT_FIELDS}).scalar_one()
                added.append(a)
        except IntegrityError as error:
            if t.YEAR_BEING_BUILT.fullmatch(check_broken(error) or ""):
                raise Conflict("year_in_bulk_declaration", "该年度正在集中申报，请稍后再试", field="periods") from None
            if not broke(error, t.LIVE_PERIOD_INDEXES, ("assessment.enrollment_id", "assessment.period_start")):
                raise
            raise Conflict("period_already_declared", "所选费款所属期已申报，请勿重复申报", field="periods") from None
        return added

    def find_special(self, notice_number: str, enrollment_id: int, period_start: date) -> Assessment | None:
        found = self._list(t.assessment.c.notice_number == notice_number, t.assessment.c.kind == "special",
                           t.assessment.c.enrollment_id == enrollment_id, t.assessment.c.period_start == period_start)
        return found[0] if found else None

    def move(self, ids: list[int], expected: str, new: str, **values) -> int:
        """Compare-and-set the state of several assessments; returns how many moved.

        The move is checked against the domain's table first: a forbidden one raises IllegalMove.
        """
        check_move(expected, new)
        if not ids:
            return 0
        return self.conn.execute(_MOVE[self._dialect], {"w_ids": list(ids), "w_expected": expected, "state": new,
                                                        **values}).rowcount

    def move_returning_regions(self, ids: list[int], expected: str, new: str, **values) -> dict[int, str]:
        """Like ``move``, answering the region of each assessment that moved (one statement)."""
        check_move(expected, new)
        if not ids:
            return {}
        rows = self.conn.execute(_MOVE_RETURNING_REGIONS[self._dialect],
                                 {"w_ids": list(ids), "w_expected": expected, "state": new, **values})
        return {r.id: r.region for r in rows}

    def count_live_for_choice(self, choice_id: int) -> int:
        return self.conn.execute(select(func.count()).select_from(t.assessment).where(
            t.assessment.c.choice_id == choice_id, t.assessment.c.state.in_(LIVE_STATES))).scalar_one()


class SqlAudit:
    def __init__(self, conn: Connection):
        self.conn = conn

    def record(self, kind: str, subject: str, data: dict, at: datetime) -> None:
        self.conn.execute(_AUDIT, {"kind": kind, "subject": subject, "data": data, "at": at})


class SqlUnitOfWork:
    """One connection, one transaction; leaving ``with`` without ``commit()`` rolls back."""

    def __init__(self, engine: Engine, cipher: FieldCipher):
        self.engine, self.cipher = engine, cipher
        self.conn: Connection | None = None
        self._depth = 0
        self.reads = PersonalDataReads()  # personal data decrypted in this unit of work (the access log)
        self._moves: list[tuple[str, str]] = []  # order state changes, announced once committed

    def __enter__(self) -> "SqlUnitOfWork":
        if self._depth == 0:
            self.conn = self.engine.connect()
            self.conn.begin()
            self.persons = SqlPersons(self.conn, self.cipher, self.reads)
            self.enrollments = SqlEnrollments(self.conn)
            self.choices = SqlChoices(self.conn)
            self.assessments = SqlAssessments(self.conn)
            self.audit = SqlAudit(self.conn)
            self.orders = SqlOrders(self.conn, on_move=self._moves.append)
            self.calls = SqlProviderCalls(self.conn)
            self.lookback = SqlLookback(self.conn)
            self.bank_accounts = SqlBankAccounts(self.conn, self.cipher)
            self.agreements = SqlAgreements(self.conn)
            self.payment_passwords = SqlPaymentPasswords(self.conn)
            self.refund_applications = SqlRefundApplications(self.conn)
        self._depth += 1
        return self

    def __exit__(self, *exc) -> None:
        self._depth -= 1
        if self._depth == 0:
            conn, self.conn = self.conn, None
            try:
                if conn.in_transaction():
                    conn.rollback()
                self._write_reads_after(conn)
            finally:
                conn.close()
                self._moves.clear()
                self.reads.write_alone(self.engine)  # only what the connection above could not write

    def _write_reads_after(self, conn: Connection) -> None:
        """The reads of a unit of work that did not commit them, in a transaction of their own on its connection
        (a read is a read, even if the request then fails); left pending when that connection cannot."""
        pending = {person_id: set(fields) for person_id, fields in self.reads.reads.items()}
        if not pending:
            return
        try:
            self.reads.write(conn)
            conn.commit()
        except Exception:  # the connection is broken: the reads go on a connection of their own instead
            self.reads.reads = pending
            try:
                conn.rollback()
            except Exception:
                pass

    def commit(self) -> None:
        self.reads.write(self.conn)
        self.conn.commit()
        self.conn.begin()
        moves, self._moves[:] = list(self._moves), []
        for old, new in moves:
            events.observe(events.ORDER_STATE_CHANGED, from_state=old, to_state=new)

    def rollback(self) -> None:
        self.conn.rollback()
        self.conn.begin()
        self._moves.clear()
