"""委托扣款协议 over the API: account filing, agreements, the payment password, 协议缴纳, 统一扣款 results.

Behind the payer's session token (X-Session-Token; several, comma-separated, when acting for
relatives: the first is the payer). Thin views: parse, call a service, render.
"""
from __future__ import annotations

from flask import Flask, abort, request
from flask.views import MethodView
from flask_smorest import Api

from app.api import agreement_schemas as s
from app.api.deps import SESSION_HEADER, container, session_person_ids
from app.api.parsing import Blueprint
from app.domain.errors import TooManyAttempts
from app.services import agreements, bank_accounts, batch_debit, payment_password
from app.services.agreement_payment import AgreementPaymentRequest, PasswordCheck, pay_by_agreement
from app.services.identification import person_for_session

blp = Blueprint("agreements", __name__, url_prefix="/api/v1", description="委托扣款协议、支付密码与协议缴纳")
SESSION = [{"sessionToken": []}]


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(blp)


def _tokens() -> list[str]:
    return [t.strip() for t in (request.headers.get(SESSION_HEADER) or "").split(",") if t.strip()]


def _payer_id() -> int:
    """The person of the first session token: the one who signs, sets a password and pays."""
    c = container()
    tokens = _tokens()
    return person_for_session(tokens[0] if tokens else None, c.uow(), c.sessions).id


def _passwords() -> PasswordCheck:
    c = container()
    return PasswordCheck(c.password_hasher, c.password_rules)


@blp.route("/bank-accounts")
class BankAccounts(MethodView):
    @blp.response(200, s.BankAccountOut(many=True))
    @blp.doc(security=SESSION)
    def get(self):
        """存款账户账号备案: the accounts filed for the identified persons (masked)."""
        return bank_accounts.list_bank_accounts(session_person_ids(), container().uow())

    @blp.arguments(s.BankAccountIn)
    @blp.response(201, s.BankAccountOut)
    @blp.doc(security=SESSION)
    def post(self, data):
        """File a bank account for an identified insured person."""
        c = container()
        return bank_accounts.file_bank_account(data["person_id"], session_person_ids(), data, c.uow(), c.clock)


@blp.route("/bank-accounts/<int:account_id>")
class BankAccount(MethodView):
    @blp.response(204)
    @blp.doc(security=SESSION)
    def delete(self, account_id):
        """Remove a filed account (not while a live agreement uses it)."""
        c = container()
        bank_accounts.remove_bank_account(account_id, session_person_ids(), c.uow(), c.clock)


@blp.route("/agreements")
class Agreements(MethodView):
    @blp.response(200, s.AgreementOut(many=True))
    @blp.doc(security=SESSION)
    def get(self):
        """委托扣款缴费协议查询: agreements for or signed by the identified persons."""
        return agreements.list_agreements(session_person_ids(), container().uow())

    @blp.arguments(s.AgreementIn)
    @blp.response(201, s.AgreementOut)
    @blp.doc(security=SESSION)
    def post(self, data):
        """新增协议: 已在银行签署 (the bank confirms the number) or 未在银行签署 (the bank verifies)."""
        c = container()
        return agreements.sign_agreement(_payer_id(), session_person_ids(), data, c.uow(), _bank(), c.clock)


def _bank():
    return container().bank  # None when no bank is configured: the service says so where it needs one


@blp.route("/agreements/<int:agreement_id>")
class Agreement(MethodView):
    @blp.response(200, s.AgreementOut)
    @blp.doc(security=SESSION)
    def get(self, agreement_id):
        """One agreement with its history."""
        return agreements.show_agreement(agreement_id, session_person_ids(), container().uow())


@blp.route("/agreements/<int:agreement_id>/revoke")
class AgreementRevoke(MethodView):
    @blp.response(200, s.AgreementOut)
    @blp.doc(security=SESSION)
    def post(self, agreement_id):
        """撤销协议 (at the bank first)."""
        c = container()
        return agreements.revoke_agreement(agreement_id, session_person_ids(), c.uow(), _bank(), c.clock)


@blp.route("/agreements/<int:agreement_id>/auto-pay")
class AgreementAutoPay(MethodView):
    @blp.arguments(s.AutoPayIn)
    @blp.response(200, s.AgreementOut)
    @blp.doc(security=SESSION)
    def put(self, data, agreement_id):
        """自动缴费 on or off (the bureau's batch debit uses agreements with it on)."""
        c = container()
        return agreements.switch_auto_pay(agreement_id, data["auto_pay"], session_person_ids(), c.uow(), c.clock)


@blp.route("/payment-password")
class PaymentPassword(MethodView):
    @blp.response(200, s.PasswordStatusOut)
    @blp.doc(security=SESSION)
    def get(self):
        """Whether a payment password is set, enabled, locked."""
        c = container()
        return payment_password.password_status(_payer_id(), c.uow(), c.clock)

    @blp.arguments(s.PasswordIn)
    @blp.response(200, s.PasswordStatusOut)
    @blp.doc(security=SESSION)
    def put(self, data):
        """设置支付密码: the SMS code and the password twice."""
        c = container()
        return payment_password.set_payment_password(_payer_id(), data["sms_code"], data["password"],
                                                     data["password_again"], c.uow(), c.password_hasher, c.clock,
                                                     c.password_rules)


@blp.route("/payment-password/sms-code")
class PaymentPasswordCode(MethodView):
    @blp.response(201, s.SmsCodeOut)
    @blp.doc(security=SESSION)
    def post(self):
        """发送验证码 to the registered phone."""
        c = container()
        return payment_password.send_password_code(_payer_id(), c.uow(), c.sms, c.clock, c.password_rules)


@blp.route("/payment-password/enabled")
class PaymentPasswordEnabled(MethodView):
    @blp.arguments(s.PasswordEnabledIn)
    @blp.response(200, s.PasswordStatusOut)
    @blp.doc(security=SESSION)
    def put(self, data):
        """设置支付密码是否启用 (the current password is asked for)."""
        c = container()
        return _logging_out_when_locked(lambda: payment_password.set_password_enabled(
            _payer_id(), data["enabled"], data["password"], c.uow(), c.password_hasher, c.clock, c.password_rules))


@blp.route("/agreement-payments")
class AgreementPayments(MethodView):
    @blp.arguments(s.AgreementPaymentIn)
    @blp.response(201, s.AgreementPaymentOut)
    @blp.doc(security=SESSION)
    def post(self, data):
        """协议缴纳: pay declared assessments now through an active agreement (payment password)."""
        c = container()
        req = AgreementPaymentRequest(_payer_id(), session_person_ids(), data["assessment_ids"], data["agreement_id"],
                                      data["confirmed_amount_fen"], data["channel"], data["password"])
        return _logging_out_when_locked(lambda: pay_by_agreement(
            req, c.uow(), c.payments, _passwords(), tuple(c.settings["AGREEMENT_PAYMENT_CHANNELS"])))


@blp.route("/batch-debits")
class BatchDebits(MethodView):
    @blp.response(200, s.BatchLineOut(many=True))
    @blp.doc(security=SESSION)
    def get(self):
        """统一扣款结果: the bureau's batch debits of the identified persons, with the reason when one failed."""
        return batch_debit.batch_results_for(session_person_ids(), container().batch_store)


@blp.route("/sandbox/sms")
@blp.doc(summary="The sandbox SMS inbox of a phone (development only: SMS_INBOX_VISIBLE)")
def sandbox_sms():
    c = container()
    if not c.settings.get("SMS_INBOX_VISIBLE") or not hasattr(c.sms, "messages"):
        abort(404)
    return {"messages": c.sms.messages(request.args.get("phone", ""))}


def _logging_out_when_locked(call):
    """Seed 001: the third wrong payment password "强制退出登录" — the session ends, then the error is answered."""
    try:
        return call()
    except TooManyAttempts as locked:
        if locked.details.get("logout"):
            for token in _tokens():
                container().sessions.end(token)
        raise
