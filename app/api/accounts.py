"""The account API (tax app and web e-tax bureau): human check, SMS codes, registration, sign-in
with a second factor, sessions, consent, password and phone changes and recovery.

Views only parse, call an account service and render. The session travels in the
``X-Account-Token`` header; signing in with a token present ends that token (rotation).
"""
from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from app.api.parsing import Blueprint

from app.api import account_schemas as s
from app.domain.accounts import SMS_RECOVER_PHONE, SMS_REGISTER
from app.domain.documents import ACCOUNT_ID_TYPES
from app.domain.errors import InvalidInput
from app.services import account_login, account_recovery, accounts, enrollments
from app.services.account_codes import send_code
from app.domain.accounts import normalize_phone

blp = Blueprint("accounts", __name__, url_prefix="/api/v1/accounts",
                description="自然人账户：注册、登录（密码+短信验证码）、会话、同意书、密码与手机号码")
TOKEN_HEADER = "X-Account-Token"
ACCOUNT = [{"accountToken": []}]


def init_app(app, api) -> None:
    """Register the account API (the pages register through ``app.web.account_web``)."""
    api.spec.components.security_scheme("accountToken", {"type": "apiKey", "in": "header", "name": TOKEN_HEADER})
    api.register_blueprint(blp)


def deps():
    return current_app.extensions["sbf"].accounts


def token() -> str | None:
    return request.headers.get(TOKEN_HEADER)


@blp.route("/human-check")
class HumanCheck(MethodView):
    @blp.response(200, s.HumanCheckOut)
    def get(self):
        """A proof-of-work challenge (ALTCHA) to solve before signing in or asking for a code."""
        return deps().human.challenge()


@blp.route("/id-types")
class IdTypes(MethodView):
    @blp.response(200, s.IdTypeOut(many=True))
    def get(self):
        """The documents an account registers with (seed 000's list), in its order."""
        return [{"code": t.value, "label": t.label} for t in ACCOUNT_ID_TYPES]


@blp.route("/sms-codes")
class SmsCodes(MethodView):
    @blp.arguments(s.SmsCodeIn)
    @blp.response(201, s.SmsSentOut)
    def post(self, data):
        """Send a code to a phone for registration or phone recovery (after the human check)."""
        d = deps()
        if data["purpose"] == SMS_REGISTER:
            account_login.require_human(data["human_check"], d)
            return send_code(SMS_REGISTER, normalize_phone(data["phone"]), d, request.remote_addr)
        if data["purpose"] == SMS_RECOVER_PHONE:
            return account_recovery.send_recovery_code(data, d, request.remote_addr)
        raise InvalidInput("sms_purpose_unknown", "验证码用途有误", field="purpose")


@blp.route("/registrations")
class Registrations(MethodView):
    @blp.arguments(s.RegistrationIn)
    @blp.response(201, s.RegistrationOut)
    def post(self, data):
        """Register (agreement, name, document, gender, nationality, username, password, phone + code)."""
        return accounts.register_account(data, deps())


@blp.route("/registrations/<registration_id>/completion")
class RegistrationCompletion(MethodView):
    @blp.response(201, s.RegistrationOut)
    def post(self, registration_id):
        """Finish a registration once the identity check (实人认证) passed."""
        return accounts.complete_registration(registration_id, deps())


@blp.route("/logins")
class Logins(MethodView):
    @blp.arguments(s.LoginIn)
    @blp.response(201, s.LoginOut)
    def post(self, data):
        """Sign-in step one: username, phone or document + password; an SMS code goes out."""
        return account_login.start_login(data["kind"], data, deps(), request.remote_addr)


@blp.route("/logins/second-factor")
class SecondFactor(MethodView):
    @blp.arguments(s.SecondFactorIn)
    @blp.response(201, s.AccountSessionOut)
    def post(self, data):
        """Sign-in step two: the SMS code → a new session token."""
        return account_login.finish_login(data["challenge"], data["sms_code"], deps(), previous_token=token(),
                                          channel=request.headers.get("X-Channel", "api"))


@blp.route("/sessions/current")
class CurrentSession(MethodView):
    @blp.response(204)
    @blp.doc(security=ACCOUNT)
    def delete(self):
        """Log out: the token ends now."""
        account_login.end_session(token() or "", deps())


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, s.AccountOut)
    @blp.doc(security=ACCOUNT)
    def get(self):
        """The account (masked) and, once the bureaus know the person, their enrollments."""
        d = deps()
        account = account_login.consented_account(token(), d)
        items = enrollments.list_enrollments(account.person_id, current_app.extensions["sbf"].uow()) \
            if account.person_id else []
        return {**account_login.account_view(account), "enrollments": items}


@blp.route("/me/consents")
class Consents(MethodView):
    @blp.arguments(s.ConsentIn)
    @blp.response(201, s.ConsentOut)
    @blp.doc(security=ACCOUNT)
    def post(self, data):
        """Agree to the 个人信息保护告知同意书 of the current version."""
        return account_recovery.record_consent(token(), data["version"], deps())


@blp.route("/me/sms-codes")
class AccountCodes(MethodView):
    @blp.arguments(s.AccountCodeIn)
    @blp.response(201, s.SmsSentOut)
    @blp.doc(security=ACCOUNT)
    def post(self, data):
        """A code for changing the password (to the phone) or the phone (to the new phone)."""
        return account_recovery.send_account_code(token(), data["purpose"], deps(), data["new_phone"],
                                                  request.remote_addr)


@blp.route("/me/password")
class Password(MethodView):
    @blp.arguments(s.PasswordChangeIn)
    @blp.response(200, s.MessageOut)
    @blp.doc(security=ACCOUNT)
    def put(self, data):
        """Change the password (current password + code); other sessions end."""
        return account_recovery.change_password(token(), data, deps(), request.remote_addr)


@blp.route("/me/phone")
class Phone(MethodView):
    @blp.arguments(s.PhoneChangeIn)
    @blp.response(200, s.MessageOut)
    @blp.doc(security=ACCOUNT)
    def put(self, data):
        """Change the security phone (the new phone's code)."""
        return account_recovery.change_phone(token(), data, deps())


@blp.route("/password-resets")
class PasswordResets(MethodView):
    @blp.arguments(s.LoginIn)
    @blp.response(201, s.MessageOut)
    def post(self, data):
        """Forgot password, step one: a code to the account's phone (same answer for unknown accounts)."""
        return account_recovery.start_password_reset(data["kind"], data, deps(), request.remote_addr)


@blp.route("/password-resets/confirmation")
class PasswordResetConfirmation(MethodView):
    @blp.arguments(s.PasswordResetIn)
    @blp.response(200, s.MessageOut)
    def post(self, data):
        """Forgot password, step two: the code and a new password."""
        return account_recovery.reset_password(data["kind"], data, deps(), request.remote_addr)


@blp.route("/phone-recoveries")
class PhoneRecoveries(MethodView):
    @blp.arguments(s.PhoneRecoveryIn)
    @blp.response(200, s.MessageOut)
    def post(self, data):
        """Recover the phone: document + name + password, and the new phone's code."""
        return account_recovery.recover_phone(data, deps(), request.remote_addr)


@blp.route("/channel-tickets")
class Tickets(MethodView):
    @blp.arguments(s.TicketIn)
    @blp.response(201, s.TicketOut)
    @blp.doc(security=ACCOUNT)
    def post(self, data):
        """A login ticket for a channel entry (the tax app), bound to the entry's one-time state."""
        return {"ticket": account_login.channel_ticket(token(), data["state"], deps())}
