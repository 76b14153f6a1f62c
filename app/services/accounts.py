"""Natural-person registration (seeds 000 and 004): the form, the SMS code, the real-name match.

The registrant is matched against the persons the bureaus pushed (document + name). When the
phone is the one taken at the service hall, the registration completes at once; otherwise a
liveness check (实人认证, ``IdentityVerifier``) must pass first (seed 000's 注意事项). A
person the bureaus do not know yet may register too (after the check) and sees no
enrollments until they do. Phone numbers are not unique at registration: whoever proves
the phone by its SMS code holds it, and the account that held it before loses it (seed 000).
A registration waiting for its identity check keeps the person's data sealed (AES-GCM).
"""
from __future__ import annotations

import secrets
import unicodedata
from datetime import datetime

from app.domain.accounts import (SMS_REGISTER, VERIFIED_BY_IDENTITY_CHECK, VERIFIED_BY_PHONE_ON_RECORD,
                                 VERIFIED_NOT_KNOWN, Account, RegistrationForm, check_password_shape,
                                 MIN_PASSWORD_SCORE)
from app.domain.documents import mask_id_number
from app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.account_codes import check_code
from app.services.account_ports import AccountDeps

USERNAME_TAKEN = ("username_taken", "该用户名已被使用，请换一个")
DOCUMENT_REGISTERED = ("document_registered", "该证件已注册，请直接登录或使用“忘记密码”找回")
WEAK_PASSWORD = ("password_weak", "密码强度不足：请使用更长、不易猜到的密码，不要使用姓名、生日、手机号或常见词")
NAME_MISMATCH = ("name_mismatch", "姓名与证件号码不一致，请核对后重新输入")


def check_password_strength(password: str, user_inputs: list[str], deps: AccountDeps) -> None:
    """Length, then the estimator: a guessable password is refused with a hint."""
    check_password_shape(password)
    if deps.strength.score(password, [u for u in user_inputs if u]) < MIN_PASSWORD_SCORE:
        raise InvalidInput(*WEAK_PASSWORD, field="password")


def _same_name(a: str, b: str) -> bool:
    return unicodedata.normalize("NFKC", a).strip() == unicodedata.normalize("NFKC", b).strip()


def register_account(data: dict, deps: AccountDeps) -> dict:
    """Check the form, the password and the SMS code; create the account, or start the identity check."""
    form = RegistrationForm.parse(data, deps.clock.today())
    password = data.get("password") or ""
    check_password_strength(password, [form.username, form.name, form.phone, form.id_number], deps)
    with deps.uow() as uow:
        if uow.accounts.find_by_username(form.username):
            raise Conflict(*USERNAME_TAKEN, field="username")
        if uow.accounts.find_by_document(form.id_type, form.id_number):
            raise Conflict(*DOCUMENT_REGISTERED, field="id_number")
        person = uow.persons.find_by_document(form.id_type, form.id_number)
    if person is not None and not _same_name(person.name, form.name):
        raise InvalidInput(*NAME_MISMATCH, field="name")
    check_code(SMS_REGISTER, form.phone, data.get("sms_code") or "", deps)
    password_hash = deps.hasher.hash(password)
    if person is not None and person.phone == form.phone:
        account = _create(form, password_hash, VERIFIED_BY_PHONE_ON_RECORD, person.id, deps)
        return {"status": "registered", "username": account.username}
    registration_id = secrets.token_urlsafe(24)
    check_id, check_url = deps.verifier.start(form.name, form.id_type, form.id_number,
                                              f"{deps.settings.public_base_url}/accounts/register/{registration_id}")
    personal = {**form.__dict__, "password_hash": password_hash}
    pending = {"sealed": deps.sealer.seal(personal), "check_id": check_id, "person_id": person.id if person else None,
               "started_at": deps.clock.now().isoformat()}
    deps.store.put("acct:registration:" + registration_id, pending, int(deps.settings.registration_ttl.total_seconds()))
    return {"status": "identity_check_required", "registration_id": registration_id, "check_url": check_url}


def complete_registration(registration_id: str, deps: AccountDeps) -> dict:
    """After the identity check: create the account when it passed."""
    key = "acct:registration:" + registration_id
    pending = deps.store.get(key)
    if pending is None or deps.clock.now() - datetime.fromisoformat(pending["started_at"]) >= \
            deps.settings.registration_ttl:
        raise NotFound("registration_expired", "注册信息已过期，请重新注册")
    outcome = deps.verifier.result(pending["check_id"])
    if outcome == "pending":
        raise Conflict("identity_check_pending", "请先在税务应用中完成人脸识别认证，再点击“下一步”")
    if outcome != "passed":
        deps.store.delete(key)
        raise Forbidden("identity_check_failed", "人脸识别认证未通过，请重新注册或到办税服务厅办理")
    if deps.store.take(key) is None:
        raise NotFound("registration_expired", "注册信息已过期，请重新注册")
    personal = deps.sealer.unseal(pending["sealed"])  # name, document, phone: never stored in the clear
    password_hash = personal.pop("password_hash")
    form = RegistrationForm(**personal)
    verified_by = VERIFIED_BY_IDENTITY_CHECK if pending["person_id"] else VERIFIED_NOT_KNOWN
    account = _create(form, password_hash, verified_by, pending["person_id"], deps)
    return {"status": "registered", "username": account.username}


def _create(form: RegistrationForm, password_hash: str, verified_by: str, person_id: int | None,
            deps: AccountDeps) -> Account:
    now = deps.clock.now()
    with deps.uow() as uow:
        holder = uow.accounts.find_by_phone(form.phone)
        if holder is not None:  # the phone was proven by its code: the earlier holder loses it (seed 000)
            uow.accounts.clear_phone(holder.id)
            uow.audit.record("account.phone_cleared", f"account:{holder.id}", {"reason": "reused_by_registration"},
                             now)
        account = uow.accounts.add(Account(
            username=form.username, name=form.name, id_type=form.id_type, id_number=form.id_number,
            gender=form.gender, nationality=form.nationality, phone=form.phone, password_hash=password_hash,
            verified_by=verified_by, created_at=now, person_id=person_id))
        if account is None:  # a registration of the same username or document won the race
            raise Conflict(*DOCUMENT_REGISTERED, field="id_number")
        uow.audit.record("account.registered", f"account:{account.id}",
                         {"verified_by": verified_by, "document": mask_id_number(form.id_number),
                          "known_person": person_id is not None}, now)
        uow.commit()
    return account
