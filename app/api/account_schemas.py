"""Request and answer shapes of the account API."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields

from app.api import fields as f


class _In(f.InSchema):
    """Requests: Chinese messages for every refusal (``app.api.fields``); unknown fields are ignored."""

    class Meta:
        unknown = EXCLUDE


class HumanCheckOut(Schema):
    algorithm = fields.String()
    challenge = fields.String()
    maxNumber = fields.Integer()
    salt = fields.String()
    signature = fields.String()


class SmsCodeIn(_In):
    purpose = f.Str(required=True, metadata={"description": "register 或 recover_phone"})
    phone = f.Str(load_default="")
    new_phone = f.Str(load_default="")
    human_check = f.Str(load_default="", max_length=2000, metadata={"description": "ALTCHA 工作量证明（base64）"})


class AccountCodeIn(_In):
    purpose = f.Str(required=True, metadata={"description": "change_password 或 change_phone"})
    new_phone = f.Str(load_default="")


class SmsSentOut(Schema):
    sent_to = fields.String()
    expires_in = fields.Integer()


class RegistrationIn(_In):
    agreed = f.Bool(load_default=False)
    name = f.Str(load_default="")
    id_type = f.Str(load_default="resident_id")
    id_number = f.Str(load_default="")
    gender = f.Str(load_default="")
    nationality = f.Str(load_default="CHN")
    username = f.Str(load_default="")
    password = f.Str(load_default="", load_only=True)
    phone = f.Str(load_default="")
    sms_code = f.Str(load_default="")


class RegistrationOut(Schema):
    status = fields.String()
    username = fields.String()
    registration_id = fields.String()
    check_url = fields.String()


class LoginIn(_In):
    kind = f.Str(load_default="username", metadata={"description": "username / phone / document"})
    username = f.Str(load_default="")
    phone = f.Str(load_default="")
    id_type = f.Str(load_default="resident_id")
    id_number = f.Str(load_default="")
    password = f.Str(load_default="", load_only=True)
    human_check = f.Str(load_default="", max_length=2000)


class LoginOut(Schema):
    challenge = fields.String()
    sent_to = fields.String()
    second_factors = fields.List(fields.String())


class SecondFactorIn(_In):
    challenge = f.Str(load_default="")
    sms_code = f.Str(load_default="")


class AccountSessionOut(Schema):
    session_token = fields.String()
    expires_in = fields.Integer()
    consent_required = fields.Boolean()
    consent_version = fields.String()


class AccountOut(Schema):
    username = fields.String()
    name = fields.String()
    id_type = fields.String()
    id_number = fields.String()
    phone = fields.String()
    gender = fields.String()
    nationality = fields.String()
    known_person = fields.Boolean()
    consent_version = fields.String(allow_none=True)
    enrollments = fields.List(fields.Dict())


class ConsentIn(_In):
    version = f.Str(required=True)


class ConsentOut(Schema):
    document = fields.String()
    version = fields.String()


class PasswordChangeIn(_In):
    old_password = f.Str(load_default="", load_only=True)
    new_password = f.Str(load_default="", load_only=True)
    sms_code = f.Str(load_default="")


class PhoneChangeIn(_In):
    new_phone = f.Str(load_default="")
    sms_code = f.Str(load_default="")


class PasswordResetIn(LoginIn):
    sms_code = f.Str(load_default="")
    new_password = f.Str(load_default="", load_only=True)


class PhoneRecoveryIn(_In):
    name = f.Str(load_default="")
    id_type = f.Str(load_default="resident_id")
    id_number = f.Str(load_default="")
    password = f.Str(load_default="", load_only=True)
    new_phone = f.Str(load_default="")
    sms_code = f.Str(load_default="")


class MessageOut(Schema):
    message = fields.String()
    phone = fields.String()
    sessions_ended = fields.Integer()


class TicketIn(_In):
    state = f.Str(required=True)


class TicketOut(Schema):
    ticket = fields.String()


class IdTypeOut(Schema):
    code = fields.String()
    label = fields.String()
