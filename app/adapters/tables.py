"""The schema as SQLAlchemy Core tables; Alembic revisions in ``migrations/`` create it.

Personal data (document numbers, names, phones) is stored encrypted (AES-GCM) and found
through a keyed blind index; see ``app/adapters/crypto.py``.
"""
from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer,
                        LargeBinary, MetaData, String, Table, text)

# stable constraint names, so migrations can refer to them (flaskbb's convention)
metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

LIVE_ASSESSMENT = text("state IN ('declared_unpaid', 'paying', 'paid') AND kind <> 'special'")
LIVE_CHOICE = text("voided_at IS NULL")

person = Table(
    "person", metadata,
    Column("id", Integer, primary_key=True),
    Column("id_type", String(32), nullable=False),
    Column("id_number_index", String(64), nullable=False, unique=True),
    Column("id_number_enc", LargeBinary, nullable=False),
    Column("name_enc", LargeBinary, nullable=False),
    Column("phone_enc", LargeBinary),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

enrollment = Table(
    "enrollment", metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("person.id"), nullable=False, index=True),
    Column("insurance", String(16), nullable=False),
    Column("region", String(12), nullable=False),
    Column("category", String(16), nullable=False),
    Column("insured_number", String(32), nullable=False, unique=True),
    Column("start_month", String(7), nullable=False),
    Column("status", String(16), nullable=False),
    Column("source_bureau", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

contribution_choice = Table(
    "contribution_choice", metadata,
    Column("id", Integer, primary_key=True),
    Column("enrollment_id", Integer, ForeignKey("enrollment.id"), nullable=False),
    Column("effective_month", String(7), nullable=False),
    Column("base_fen", BigInteger),
    Column("grade_code", String(16)),
    Column("batch_debit_allowed", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("voided_at", DateTime(timezone=True)),
    Index("uq_contribution_choice_live_month", "enrollment_id", "effective_month", unique=True,
          postgresql_where=LIVE_CHOICE, sqlite_where=LIVE_CHOICE),
)

assessment = Table(
    "assessment", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("enrollment_id", Integer, ForeignKey("enrollment.id"), index=True),
    Column("person_id", Integer, ForeignKey("person.id"), index=True),
    Column("employer_id", Integer),
    Column("insurance", String(16), nullable=False),
    Column("region", String(12), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("notice_number", String(32), nullable=False, index=True),
    Column("state", String(20), nullable=False),
    Column("base_fen", BigInteger),
    Column("rate", String(16)),
    Column("grade_code", String(16)),
    Column("choice_id", Integer, ForeignKey("contribution_choice.id"), index=True),
    Column("subsidy_fen", BigInteger),
    Column("reason", String(200)),
    Column("declared_at", DateTime(timezone=True), nullable=False),
    Column("paid_at", DateTime(timezone=True)),
    # one live regular/back assessment per enrollment and period, whatever the channel
    Index("uq_assessment_live_period", "enrollment_id", "period_start", unique=True,
          postgresql_where=LIVE_ASSESSMENT, sqlite_where=LIVE_ASSESSMENT),
)

audit_event = Table(
    "audit_event", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("data", JSON, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

__all__ = ["metadata", "person", "enrollment", "contribution_choice", "assessment", "audit_event"]
