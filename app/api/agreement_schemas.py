"""Schemas of the agreement API: filed accounts, agreements, the payment password, agreement payment."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas import OrderOut, PersonOut
from app.domain.agreements import MODES
from app.domain.bank_accounts import ACCOUNT_KINDS, BANKS

Str, Int, Bool = fields.String, fields.Integer, fields.Boolean


class BankAccountIn(Schema):
    person_id = Int(required=True, metadata={"description": "参保人（须已身份确认）"})
    bank_code = Str(required=True, validate=validate.OneOf(sorted(BANKS)), metadata={"description": "开户银行行别代码"})
    account_kind = Str(required=True, validate=validate.OneOf(sorted(ACCOUNT_KINDS)))
    account_no = Str(required=True, validate=validate.Length(max=40), metadata={"description": "银行账号"})
    holder_name = Str(required=True, validate=validate.Length(max=60), metadata={"description": "账户户名"})
    holder_is_other = Bool(load_default=False, metadata={"description": "人卡分离：账户属于他人"})
    holder_id_type = Str(load_default=None, allow_none=True)
    holder_id_number = Str(load_default=None, allow_none=True, validate=validate.Length(max=32))


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


class AgreementIn(Schema):
    person_id = Int(required=True, metadata={"description": "参保人：本人或已查询确认的他人"})
    bank_account_id = Int(required=True)
    mode = Str(required=True, validate=validate.OneOf(sorted(MODES)))
    agreement_no = Str(load_default=None, allow_none=True, validate=validate.Length(max=40),
                       metadata={"description": "已在银行签署协议时必填"})
    auto_pay = Bool(load_default=False, metadata={"description": "自动缴费（统一扣款）"})


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


class AutoPayIn(Schema):
    auto_pay = Bool(required=True)


class SmsCodeOut(Schema):
    sent_to = Str()
    expires_at = Str()


class PasswordIn(Schema):
    sms_code = Str(required=True, validate=validate.Length(max=8))
    password = Str(required=True, validate=validate.Length(max=32))
    password_again = Str(required=True, validate=validate.Length(max=32))


class PasswordEnabledIn(Schema):
    enabled = Bool(required=True)
    password = Str(required=True, validate=validate.Length(max=32))


class PasswordStatusOut(Schema):
    is_set = Bool()
    enabled = Bool()
    locked = Bool()
    locked_until = Str(allow_none=True)


class AgreementPaymentIn(Schema):
    agreement_id = Int(required=True)
    assessment_ids = fields.List(Int(), required=True, validate=validate.Length(min=1, max=60))
    confirmed_amount_fen = Int(required=True, validate=validate.Range(min=1))
    channel = Str(load_default="api")
    password = Str(load_default=None, allow_none=True, validate=validate.Length(max=32),
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
