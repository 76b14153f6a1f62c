"""UnionPay (银联) QR payments over the ACP 5.1.0 gateway, signed by hand with ``cryptography``."""
