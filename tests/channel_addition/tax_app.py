"""A stand-in for the tax app (税税通 / 移动办税) channel: our own accounts, a login ticket as the code.

It is what the accounts issue will add as ``channels/tax_app/``: the test wires it through the
settings alone (``CHANNELS`` and ``CHANNEL_PAYMENT_METHODS``) to show the core needs nothing else.
"""
from __future__ import annotations

from channels.base import (AUTH_ACCOUNT, START_SHOW_QR, AuthFailed, ChannelUser, Entry, PaymentStart,
                           RequestRefused, standard_menu)


class TaxAppChannel:
    code, title, auth_kind, needs_region = "tax_app", "移动办税", AUTH_ACCOUNT, False
    payment_methods = ("fake.qr",)

    def __init__(self, tickets: dict[str, str]):
        self._tickets = tickets  # login ticket → account id, as the accounts service would answer

    def entry(self, request):
        return Entry(AUTH_ACCOUNT, url=None, params={"state": request.state})

    def authenticate(self, grant):
        account = self._tickets.get(grant.code)
        if account is None:
            raise AuthFailed("ticket_invalid")
        return ChannelUser(self.code, account, display="办税账户")

    def payer_ref(self, user):
        return None

    def start_payment(self, payment):
        if not payment.qr_code:
            raise RequestRefused("method_not_startable")
        return PaymentStart(START_SHOW_QR, url=payment.qr_code)

    def menu(self):
        return standard_menu()

    def page_config(self, url):
        return {}


def build(*, tickets: dict[str, str]) -> TaxAppChannel:
    return TaxAppChannel(dict(tickets))
