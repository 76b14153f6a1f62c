"""Alipay (支付宝): wap and QR payments through python-alipay-sdk, behind the payment port.

``provider.build`` makes the provider from settings; ``testing.sandboxed_provider`` wires it to
the local sandbox gateway (``payments.sandbox.alipay``) for tests and development.
"""
