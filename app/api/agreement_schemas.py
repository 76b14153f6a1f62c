"""Schemas of the agreement API: filed accounts, agreements, the payment password, agreement payment."""
from __future__ import annotations

from marshmallow import Schema, fields

from app.api import fields as f
from app.api.schemas import OrderOut, PersonOut
from app.domain.agreements import MODES
from app.domain.bank_accounts import ACCOUNT_KINDS, BANKS

Str, Int, Bool = fields.String, fields.Integer, fields.Boolean


class BankAccountIn(f.InSchema):
    person_id = f.Id(required=True, metadata={"description": "参保人（须已身份确认）"})
    bank_code = f.Str(required=True, validate=f.OneOf(sorted(BANKS), labels=[BANKS[k] for k in sorted(BANKS)]),
                      metadata={"description": "开户银行行别代码"})
    account_kind = f.Str(required=True, validate=f.OneOf(sorted(ACCOUNT_KINDS),
                                                         labels=[ACCOUNT_KINDS[k] for k in sorted(ACCOUNT_KINDS)]))
    account_no = f.Str(required=True, validate=f.Length(min=1, max=40), metadata={"description": "银行账号"})
    holder_name = f.Str(required=True, validate=f.Length(min=1, max=60), metadata={"description": "账户户名"})
    holder_is_other = f.Bool(load_default=False, metadata={"description": "人卡分离：账户属于他人"})
    holder_id_type = f.Str(load_default=None, allow_none=True, validate=f.Length(max=32))
    holder_id_number = f.Str(load_default=None, allow_none=True, validate=f.Length(max=32))


class BankAccountOut(Schema):
    id = Int()
    person_id = Int()
    bank_code = Str()
    bank_name = Str()
    account_kind = Str()
    account_kind_label = Str()
    account_no = Str(metadata={"description": "masked"})
    holder_name = Str(metadata={"description": "masked"})
    holder_is_other = Bool()


class AgreementIn(f.InSchema):
    person_id = f.Id(required=True, metadata={"description": "参保人：本人或已查询确认的他人"})
    bank_account_id = f.Id(required=True)
    mode = f.Str(required=True, validate=f.OneOf(sorted(MODES), labels=[MODES[k] for k in sorted(MODES)]))
    agreement_no = f.Str(load_default=None, allow_none=True, validate=f.Length(max=40),
                         metadata={"description": "已在银行签署协议时必填"})
    auto_pay = f.Bool(load_default=False, metadata={"description": "自动缴费（统一扣款）"})


class AgreementEventOut(Schema):
    kind = Str()
    at = Str()


class AgreementOut(Schema):
    id = Int()
    mode = Str()
    mode_label = Str()
    state = Str()
    state_label = Str()
    agreement_no = Str(allow_none=True)
    auto_pay = Bool()
    reason = Str(allow_none=True)
    insured = fields.Nested(PersonOut)
    person_id = Int()
    for_other = Bool()
    bank_account_id = Int()
    bank_name = Str()
    account_no = Str()
    holder_name = Str()
    holder_is_other = Bool()
    usable = Bool()
    created_at = Str()
    history = fields.List(fields.Nested(AgreementEventOut))


class AutoPayIn(f.InSchema):
    auto_pay = f.Bool(required=True)


class SmsCodeOut(Schema):
    sent_to = Str()
    expires_at = Str()


class PasswordIn(f.InSchema):
    sms_code = f.Str(required=True, validate=f.Length(max=8))
    password = f.Str(required=True, validate=f.Length(max=32))
    password_again = f.Str(required=True, validate=f.Length(max=32))


class PasswordEnabledIn(f.InSchema):
    enabled = f.Bool(required=True)
    password = f.Str(required=True, validate=f.Length(max=32))


class PasswordStatusOut(Schema):
    is_set = Bool()
    enabled = Bool()
    locked = Bool()
    locked_until = Str(allow_none=True)


class AgreementPaymentIn(f.InSchema):
    agreement_id = f.Id(required=True)
    assessment_ids = f.List(f.Id(big=True), required=True, validate=f.Length(min=1, max=60))
    confirmed_amount_fen = f.Fen(minimum=1, required=True)
    channel = f.Str(load_default="api", validate=f.Length(max=32))
    password = f.Str(load_default=None, allow_none=True, validate=f.Length(max=32),
                     metadata={"description": "支付密码（已启用时必填）"})


class AgreementPaymentOut(OrderOut):
    bank_message = Str(allow_none=True, metadata={"description": "银行的处理结果或未成功的原因"})


class BatchLineOut(Schema):
    due_date = Str()
    order_no = Str()
    amount_fen = Int()
    insurance_label = Str()
    period = Str()
    state = Str()
    state_label = Str()
    reason = Str(allow_none=True)
