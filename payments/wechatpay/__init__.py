"""WeChat Pay (微信支付) API v3 behind the payment provider port: JSAPI (in WeChat) and Native (QR).

``provider.build`` is the registry's factory; ``testing.sandboxed_provider`` wires the provider
to the local sandbox gateway for tests and development.
"""
