"""calls for money in flight: orders still open and refunds still pending get their provider calls

Revision ID: i11_02
Revises: i11_01
Create Date: 2026-12-02 15:50:00.000000

"""
from typing import Sequence, Union

from alembic import op


revision: str = 'i11_02'
down_revision: Union[str, Sequence[str], None] = 'i11_01'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    _calls_for_what_is_open()


def _calls_for_what_is_open() -> None:
    """Orders still open and refunds still pending get their calls, due now: nothing open is forgotten."""
    json_object = "json_build_object" if op.get_bind().dialect.name == "postgresql" else "json_object"
    now = "CURRENT_TIMESTAMP"
    op.execute(f"""
        INSERT INTO provider_call (kind, provider, key, order_no, state, attempts, next_attempt_at, request,
                                   created_at, updated_at)
        SELECT 'query', provider, order_no, order_no, 'pending', 0, {now}, {json_object}('order_no', order_no),
               {now}, {now}
        FROM payment_order WHERE state IN ('created', 'paying')""")
    op.execute(f"""
        INSERT INTO provider_call (kind, provider, key, order_no, state, step, attempts, next_attempt_at, request,
                                   created_at, updated_at)
        SELECT 'refund', o.provider, r.refund_no, o.order_no, 'pending', 'ask', 0, {now},
               {json_object}('order_no', o.order_no, 'refund_no', r.refund_no, 'amount_fen', r.amount_fen,
                             'total_fen', o.amount_fen, 'reason', '扣款成功但缴费失败，原路退回',
                             'provider_trade_no', o.provider_trade_no),
               {now}, {now}
        FROM refund r JOIN payment_order o ON o.id = r.order_id WHERE r.state = 'pending'""")


def downgrade() -> None:
    """Nothing to undo: the calls are rows like any other (the table goes with i11_01)."""
