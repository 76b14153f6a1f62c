"""The schema as SQLAlchemy Core tables; Alembic revisions in ``migrations/`` create it.

Personal data (document numbers, names, phones) is stored encrypted (AES-GCM) and found
through a keyed blind index; see ``app/adapters/crypto.py``.
"""
from __future__ import annotations

import re

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Date, ForeignKey, ForeignKeyConstraint, Index, Integer,
                        LargeBinary, MetaData, Sequence, String, Table, Text, UniqueConstraint, select, text)

from app.adapters.utc_datetime import UtcDateTime  # every moment stored as aware UTC

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
    Column("created_at", UtcDateTime(), nullable=False),
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
    Column("created_at", UtcDateTime(), nullable=False),
)

contribution_choice = Table(
    "contribution_choice", metadata,
    Column("id", Integer, primary_key=True),
    Column("enrollment_id", Integer, ForeignKey("enrollment.id"), nullable=False),
    Column("effective_month", String(7), nullable=False),
    Column("base_fen", BigInteger),
    Column("grade_code", String(16)),
    Column("batch_debit_allowed", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("voided_at", UtcDateTime()),
    Index("uq_contribution_choice_live_month", "enrollment_id", "effective_month", unique=True,
          postgresql_where=LIVE_CHOICE, sqlite_where=LIVE_CHOICE),
)

# On PostgreSQL partitioned by range of period_start (a DEFAULT partition, and the years the bulk
# declaration built apart, e.g. assessment_y2027), so its primary key there is (id, period_start):
# a partitioned table's unique keys carry the partition key. The id alone stays unique (one
# sequence) and is what the code looks rows up by. SQLite (``make run``) has one plain table.
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
    Column("declared_at", UtcDateTime(), nullable=False),
    Column("paid_at", UtcDateTime()),
    # one live regular/back assessment per enrollment and period, whatever the channel
    Index("uq_assessment_live_period", "enrollment_id", "period_start", unique=True,
          postgresql_where=LIVE_ASSESSMENT, sqlite_where=LIVE_ASSESSMENT),
)



def TO_ASSESSMENT() -> ForeignKeyConstraint:  # noqa: N802 (reads as the constraint it is)
    """The foreign key of a row pointing at an assessment: (id, period_start), the partitioned key.

    Every INSERT of such a row fills ``assessment_period_start`` with the assessment's period_start
    (``period_start_of``). SQLite's own migration keeps a foreign key on the id alone.
    """
    return ForeignKeyConstraint(["assessment_id", "assessment_period_start"],
                                ["assessment.id", "assessment.period_start"])


def period_start_of(assessment_id):
    """The period_start of the assessment with this id, as a scalar subquery for an INSERT."""
    return select(assessment.c.period_start).where(assessment.c.id == assessment_id).scalar_subquery()


# uq_assessment_live_period as PostgreSQL names it in a violation: the partition's own index
LIVE_PERIOD_INDEXES = re.compile(r"uq_assessment(_default|_y\d{4})?_live_period")
# the CHECK that keeps a year out of the default partition while the bulk declaration builds it apart
YEAR_BEING_BUILT = re.compile(r"ck_assessment_default_not_y\d{4}")

audit_event = Table(
    "audit_event", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("data", JSON, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
)

LIVE_ITEM = text("live")

payment_order = Table(
    "payment_order", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("order_no", String(32), nullable=False, unique=True),
    Column("channel", String(32), nullable=False),
    Column("channel_user", String(128)),  # who pays: the channel's user id (openid, Alipay user id, ...)
    Column("payer_person_id", Integer, ForeignKey("person.id")),  # set when the payer is an identified person
    Column("provider", String(16), nullable=False),
    Column("method", String(16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("description", String(128), nullable=False),
    Column("provider_trade_no", String(64)),
    Column("provider_ref", String(128)),
    Column("pay_url", Text),
    Column("qr_code", Text),
    Column("app_params", JSON),
    Column("failure_reason", String(200)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("paid_at", UtcDateTime()),
    Column("posted_at", UtcDateTime()),
    Column("closed_at", UtcDateTime()),
    Column("version", Integer, nullable=False, default=0),
)

order_item = Table(
    "order_item", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("order_id", BigInteger().with_variant(Integer, "sqlite"), ForeignKey("payment_order.id"),
           nullable=False, index=True),
    Column("assessment_id", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("assessment_period_start", Date, nullable=False),
    TO_ASSESSMENT(),
    Column("person_id", Integer, ForeignKey("person.id"), nullable=False),  # the insured person of the item
    Column("amount_fen", BigInteger, nullable=False),
    Column("late_fee_fen", BigInteger, nullable=False, server_default="0"),  # 滞纳金 priced when the order was made
    Column("live", Boolean, nullable=False),
    # an assessment is in at most one live order, whatever the channel
    Index("uq_order_item_live_assessment", "assessment_id", unique=True,
          postgresql_where=LIVE_ITEM, sqlite_where=LIVE_ITEM),
)

payment = Table(
    "payment", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("order_id", BigInteger().with_variant(Integer, "sqlite"), ForeignKey("payment_order.id"),
           nullable=False, index=True),
    Column("assessment_id", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("assessment_period_start", Date, nullable=False),
    TO_ASSESSMENT(),
    Column("kind", String(16), nullable=False, server_default="fee"),  # fee, or late_fee (滞纳金, its own ticket)
    Column("e_ticket_number", String(32), nullable=False, unique=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("posted_at", UtcDateTime(), nullable=False),
    # an assessment's fee is posted once, and its late fee once
    UniqueConstraint("assessment_id", "kind", name="uq_payment_assessment_id_kind"),
)

refund = Table(
    "refund", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("refund_no", String(32), nullable=False, unique=True),
    Column("order_id", BigInteger().with_variant(Integer, "sqlite"), ForeignKey("payment_order.id"),
           nullable=False, index=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("provider_refund_no", String(64)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
)

notification_log = Table(
    "notification_log", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("provider", String(16), nullable=False),
    Column("order_no", String(64)),
    Column("outcome", String(32), nullable=False),  # posted / duplicate / rejected / mismatch / unknown_order ...
    Column("detail", String(300)),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("body", JSON),  # the verified notification as the provider sent it, personal data stripped
)

# where a bulk job (the yearly resident declaration) has got to, so a crashed run resumes there
bulk_progress = Table(
    "bulk_progress", metadata,
    Column("id", Integer, primary_key=True),
    Column("job_key", String(64), nullable=False, unique=True),  # e.g. declare_year:520000:2027:medical
    Column("last_enrollment_id", Integer, nullable=False),  # every enrollment up to this id is done
    Column("created_count", BigInteger, nullable=False),
    Column("chunk_count", Integer, nullable=False),
    # a year built apart (see bulk_partition.py): the step it is at; NULL for the row-by-row way
    Column("phase", String(32)),
    Column("workers", Integer),  # the stripes a year built apart is filled in: a resume must use as many
    Column("started_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
)

ORIGINAL_ITEM = text("original")

# 完税（费）证明: one row per issue or re-issue (补开); the PDF is drawn from these rows on demand
certificate = Table(
    "certificate", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("certificate_no", String(32), nullable=False, unique=True),
    Column("verification_code", String(16), nullable=False),  # 查验码: printed, and in the QR link
    Column("person_id", Integer, ForeignKey("person.id"), nullable=False, index=True),  # whose payments
    Column("requested_by_person_id", Integer, ForeignKey("person.id"), nullable=False),  # 代他人开具: who asked
    Column("region", String(12), nullable=False),
    Column("tax_authority", String(64), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False, index=True),
    Column("reissue_of", BigInteger().with_variant(Integer, "sqlite"), ForeignKey("certificate.id"), index=True),
)

certificate_item = Table(
    "certificate_item", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("certificate_id", BigInteger().with_variant(Integer, "sqlite"), ForeignKey("certificate.id"),
           nullable=False, index=True),
    Column("payment_id", BigInteger().with_variant(Integer, "sqlite"), ForeignKey("payment.id"), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("original", Boolean, nullable=False),  # False on re-issues
    # a posted payment is on at most one original certificate; re-issues repeat it freely
    Index("uq_certificate_item_original_payment", "payment_id", unique=True,
          postgresql_where=ORIGINAL_ITEM, sqlite_where=ORIGINAL_ITEM),
)

# looking back reads a person's orders both as the insured person and as the payer (代他人缴费)
Index("ix_order_item_person_id", order_item.c.person_id)
Index("ix_payment_order_payer_person_id", payment_order.c.payer_person_id)

# which person a channel user said was themself (本人), so their history finds their own payments
channel_identity = Table(
    "channel_identity", metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("channel_user", String(128), nullable=False),  # the channel's user id (openid, Alipay user id, ...)
    Column("person_id", Integer, ForeignKey("person.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("uq_channel_identity_channel_user", "channel", "channel_user", unique=True),
)

# every read of a person's decrypted data (PIPL): who, whose, what, when, why; append-only
# (on PostgreSQL a trigger refuses UPDATE and DELETE, see migration i13_01)
personal_data_access = Table(
    "personal_data_access", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("person_id", Integer, nullable=False, index=True),  # no foreign key: the log outlives nothing it names
    Column("fields", String(128), nullable=False),  # which decrypted fields: name,id_number,phone
    Column("accessor_kind", String(32), nullable=False),  # channel_user, payer_session, api_client, operator, job
    Column("accessor", String(160), nullable=False),
    Column("purpose", String(200), nullable=False),  # the endpoint or command that read it
    Column("request_id", String(64)),
    Column("client_ip", String(64)),
)

# every call the core makes to a provider, recorded before it is made (app/domain/calls.py)
DUE_CALL = text("state = 'pending'")
provider_call = Table(
    "provider_call", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("kind", String(16), nullable=False),  # prepay / query / close / refund
    Column("provider", String(16), nullable=False),
    Column("key", String(64), nullable=False),  # the idempotency key: order number or refund number
    Column("order_no", String(32), nullable=False, index=True),
    Column("state", String(16), nullable=False),  # pending / done / exception
    Column("step", String(8)),  # a refund's step: send / ask
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("request", JSON, nullable=False),
    Column("answer", JSON),
    Column("outcome", String(32)),
    Column("last_error", String(300)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Index("uq_provider_call_kind_key", "kind", "key", unique=True),
    # the worker's page: due calls, most overdue first
    Index("ix_provider_call_due", "next_attempt_at", postgresql_where=DUE_CALL, sqlite_where=DUE_CALL),
    Index("ix_provider_call_exceptions", "state", "updated_at"),
)

# the serial of e-ticket numbers (PostgreSQL; SQLite, one writer at a time, counts the payments)
e_ticket_serial = Sequence("e_ticket_serial", metadata=metadata)

# -- debit agreements (委托扣款协议), payment passwords and batch debit (统一扣款) --
LIVE_ACCOUNT = text("removed_at IS NULL")
LIVE_AUTO_PAY = text("auto_pay AND state IN ('verifying', 'active')")

# 存款账户账号备案: number and holder encrypted, found by a keyed blind index of the number
bank_account = Table(
    "bank_account", metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("person.id"), nullable=False, index=True),
    Column("payer_account_id", Integer),  # the login account that filed it (accounts come later)
    Column("bank_code", String(8), nullable=False),
    Column("account_kind", String(16), nullable=False),
    Column("account_no_index", String(64), nullable=False),
    Column("account_no_enc", LargeBinary, nullable=False),
    Column("holder_name_enc", LargeBinary, nullable=False),
    Column("holder_is_other", Boolean, nullable=False),
    Column("holder_id_type", String(32)),
    Column("holder_id_number_enc", LargeBinary),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("removed_at", UtcDateTime()),
    Index("uq_bank_account_live_number", "person_id", "account_no_index", unique=True,
          postgresql_where=LIVE_ACCOUNT, sqlite_where=LIVE_ACCOUNT),
)

debit_agreement = Table(
    "debit_agreement", metadata,
    Column("id", Integer, primary_key=True),
    Column("payer_person_id", Integer, ForeignKey("person.id"), nullable=False, index=True),
    Column("person_id", Integer, ForeignKey("person.id"), nullable=False, index=True),  # the insured person
    Column("bank_account_id", Integer, ForeignKey("bank_account.id"), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("request_id", String(40), nullable=False, unique=True),
    Column("agreement_no", String(40), index=True),
    Column("state", String(16), nullable=False),
    Column("auto_pay", Boolean, nullable=False),
    Column("reason", String(200)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
    # batch debit takes one agreement per insured person: at most one live agreement has auto-pay on
    Index("uq_debit_agreement_auto_pay", "person_id", unique=True,
          postgresql_where=LIVE_AUTO_PAY, sqlite_where=LIVE_AUTO_PAY),
)

debit_agreement_event = Table(
    "debit_agreement_event", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("agreement_id", Integer, ForeignKey("debit_agreement.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("version", Integer, nullable=False),  # the agreement's version this event produced
    Column("at", UtcDateTime(), nullable=False),
)

payment_password = Table(
    "payment_password", metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("person.id"), nullable=False, unique=True),
    Column("password_hash", String(200)),
    Column("enabled", Boolean, nullable=False),
    Column("failed_attempts", Integer, nullable=False),
    Column("locked_until", UtcDateTime()),
    Column("code_hash", String(64)),
    Column("code_expires_at", UtcDateTime()),
    Column("code_attempts", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# one batch debit run per region and due date; its state says which step to resume at
debit_batch = Table(
    "debit_batch", metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_key", String(64), nullable=False, unique=True),  # region:yyyymmdd
    Column("file_id", String(40), nullable=False, unique=True),
    Column("region", String(12), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("state", String(16), nullable=False),
    Column("line_count", Integer, nullable=False),
    Column("sum_fen", BigInteger, nullable=False),
    Column("collected_through", BigInteger, nullable=False),  # every assessment id up to this one is collected
    Column("posted_through", BigInteger, nullable=False),  # every line id up to this one is settled
    Column("succeeded_count", Integer, nullable=False),
    Column("succeeded_fen", BigInteger, nullable=False),
    Column("failed_count", Integer, nullable=False),
    Column("pending_count", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(300)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
)

debit_batch_line = Table(
    "debit_batch_line", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("batch_id", Integer, ForeignKey("debit_batch.id"), nullable=False, index=True),
    # due date + assessment; also the line's order number and the bank's request id: debited at most once
    Column("line_key", String(32), nullable=False, unique=True),
    Column("assessment_id", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("assessment_period_start", Date, nullable=False),
    TO_ASSESSMENT(),
    Column("order_id", BigInteger().with_variant(Integer, "sqlite"), ForeignKey("payment_order.id"), nullable=False,
           index=True),
    Column("person_id", Integer, nullable=False, index=True),
    Column("agreement_id", Integer, nullable=False),
    Column("agreement_no", String(40), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),  # sent / succeeded / failed
    Column("result_code", String(8)),
    Column("reason", String(100)),
    Column("bank_txn_no", String(40)),
    Column("settled_at", UtcDateTime()),
)

# 对账: one run per (day, provider) with both sides' totals; every difference found, kept until resolved
reconciliation_run = Table(
    "reconciliation_run", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("day", Date, nullable=False),  # an Asia/Shanghai day
    Column("provider", String(16), nullable=False),
    Column("state", String(16), nullable=False),  # done / unavailable (the statement could not be had)
    Column("statement_payment_count", BigInteger, nullable=False),
    Column("statement_payment_fen", BigInteger, nullable=False),
    Column("statement_refund_count", BigInteger, nullable=False),
    Column("statement_refund_fen", BigInteger, nullable=False),
    Column("our_payment_count", BigInteger, nullable=False),
    Column("our_payment_fen", BigInteger, nullable=False),
    Column("our_refund_count", BigInteger, nullable=False),
    Column("our_refund_fen", BigInteger, nullable=False),
    Column("difference_count", Integer, nullable=False),
    Column("error", String(300)),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=False),
    Index("uq_reconciliation_run_day_provider", "day", "provider", unique=True),
)

reconciliation_difference = Table(
    "reconciliation_difference", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("run_id", BigInteger().with_variant(Integer, "sqlite"), ForeignKey("reconciliation_run.id"),
           nullable=False, index=True),
    Column("day", Date, nullable=False),
    Column("provider", String(16), nullable=False),
    Column("kind", String(32), nullable=False),  # missing_here, missing_there, amount_differs, ...
    Column("key", String(120), nullable=False),  # kind + order or refund number: a re-run finds the same key
    Column("order_no", String(64)),
    Column("refund_no", String(64)),
    Column("provider_amount_fen", BigInteger),
    Column("our_amount_fen", BigInteger),
    Column("detail", String(300), nullable=False),
    Column("found_at", UtcDateTime(), nullable=False),
    Column("resolved_at", UtcDateTime()),
    Column("resolved_by", String(64)),
    Column("resolution_note", String(500)),
    Index("uq_reconciliation_difference_key", "provider", "day", "key", unique=True),
)

# reconciliation reads a day of one provider's debits and refunds
Index("ix_payment_order_provider_paid_at", payment_order.c.provider, payment_order.c.paid_at)
Index("ix_refund_created_at", refund.c.created_at)

# a natural person's account (tax app, web e-tax bureau); document and phone found by blind index
account = Table(
    "account", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(32), nullable=False, unique=True),  # lower-cased
    Column("id_type", String(32), nullable=False),
    Column("id_number_index", String(64), nullable=False, unique=True),
    Column("id_number_enc", LargeBinary, nullable=False),
    Column("name_enc", LargeBinary, nullable=False),
    Column("gender", String(8), nullable=False),
    Column("nationality", String(3), nullable=False),
    Column("phone_index", String(64), unique=True),  # NULL once a newer registration took the phone
    Column("phone_enc", LargeBinary),
    Column("password_hash", String(255), nullable=False),
    Column("verified_by", String(40), nullable=False),
    Column("person_id", Integer, ForeignKey("person.id"), index=True),  # set once the bureaus know the person
    Column("status", String(16), nullable=False),
    Column("consent_version", String(16)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("password_changed_at", UtcDateTime(), nullable=False),
)

# every consent given (个人信息保护告知同意书), with its version
account_consent = Table(
    "account_consent", metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("account.id"), nullable=False, index=True),
    Column("document", String(32), nullable=False),
    Column("version", String(16), nullable=False),
    Column("agreed_at", UtcDateTime(), nullable=False),
)

# 社保费退费申请: an application and the posted fees it asks back; an assessment is held by at most one
# application that is not rejected (the database refuses a second one)
refund_application = Table(
    "refund_application", metadata,
    Column("id", Integer, primary_key=True),
    Column("application_no", String(32), nullable=False, unique=True),
    Column("person_id", Integer, ForeignKey("person.id"), nullable=False, index=True),
    Column("applicant_account_id", Integer),
    Column("channel", String(32), nullable=False),
    Column("insurance", String(16), nullable=False),
    Column("reason_type", String(32), nullable=False),
    Column("reason_text", String(400), nullable=False),
    Column("bank_account_id", Integer, ForeignKey("bank_account.id"), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("total_fen", BigInteger, nullable=False),
    Column("accepted_by", String(64)),
    Column("accepted_at", UtcDateTime()),
    Column("approved_by", String(64)),
    Column("approved_at", UtcDateTime()),
    Column("decided_reason", String(400)),
    Column("payouts", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Column("version", Integer, nullable=False, default=0),
)

HOLDING_ITEM = text("live")

refund_application_item = Table(
    "refund_application_item", metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", Integer, ForeignKey("refund_application.id"), nullable=False, index=True),
    Column("assessment_id", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("assessment_period_start", Date, nullable=False),
    TO_ASSESSMENT(),
    Column("payment_id", BigInteger().with_variant(Integer, "sqlite"), ForeignKey("payment.id"), nullable=False),
    Column("order_no", String(32), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("live", Boolean, nullable=False),  # false once the application was rejected
    Index("uq_refund_application_item_live_assessment", "assessment_id", unique=True,
          postgresql_where=HOLDING_ITEM, sqlite_where=HOLDING_ITEM),
)

# -- the back office (the bureau's staff) --
staff_account = Table(
    "staff_account", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(32), nullable=False, unique=True),
    Column("display_name", String(32), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("totp_secret_enc", LargeBinary, nullable=False),
    Column("last_totp_step", BigInteger, nullable=False, server_default="0"),  # a code is used once
    Column("roles", String(64), nullable=False),  # comma-separated: accept,approve,finance,audit
    Column("status", String(16), nullable=False),
    Column("session_epoch", Integer, nullable=False, server_default="0"),  # moved on: every session ends
    Column("failed_attempts", Integer, nullable=False, server_default="0"),
    Column("locked_until", UtcDateTime()),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# every staff action: who, what, when, target, why, how it ended; append-only like the access log
staff_action = Table(
    "staff_action", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("staff_id", Integer),  # NULL for a command run by an operator
    Column("actor", String(64), nullable=False, index=True),
    Column("action", String(64), nullable=False),
    Column("target", String(160), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),
    Column("reason", String(500)),
    Column("detail", JSON, nullable=False),
    Column("request_id", String(64)),
    Column("client_ip", String(64)),
)

# an exception (异常) a staff member marked resolved, by its kind and key (e.g. debited_unposted, order no)
backoffice_case = Table(
    "backoffice_case", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("key", String(120), nullable=False),
    Column("resolved_at", UtcDateTime(), nullable=False),
    Column("resolved_by", String(64), nullable=False),
    Column("note", String(500), nullable=False),
    UniqueConstraint("kind", "key", name="uq_backoffice_case_kind_key"),
)

# 催缴提醒: every reminder decided, sent or not (opted out, no channel); one per kind and key
reminder = Table(
    "reminder", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("kind", String(16), nullable=False),  # due_soon / debit_failed
    Column("key", String(120), nullable=False),  # what it is about: assessment id and due date, or batch line
    Column("person_id", Integer, nullable=False, index=True),
    Column("channel", String(16), nullable=False),  # wechat / alipay / sms / none
    Column("recipient", String(64), nullable=False),  # masked
    Column("text", String(300), nullable=False),
    Column("state", String(16), nullable=False),  # sent / opted_out / failed / no_channel
    Column("error", String(200)),
    Column("at", UtcDateTime(), nullable=False),
    UniqueConstraint("kind", "key", name="uq_reminder_kind_key"),
)

reminder_opt_out = Table(
    "reminder_opt_out", metadata,
    Column("person_id", Integer, primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("via", String(32), nullable=False),  # the channel or page the payer said it on
)

__all__ = ["metadata", "person", "enrollment", "contribution_choice", "assessment", "audit_event", "payment_order",
           "order_item", "payment", "refund", "notification_log", "bulk_progress",
           "certificate", "certificate_item", "channel_identity", "provider_call", "e_ticket_serial",
           "reconciliation_run", "reconciliation_difference",
           "bank_account", "debit_agreement", "debit_agreement_event", "payment_password", "debit_batch",
           "debit_batch_line", "personal_data_access",
           "account", "account_consent", "staff_account", "staff_action",
           "backoffice_case", "reminder", "reminder_opt_out", "refund_application", "refund_application_item"]
