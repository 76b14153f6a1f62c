"""The Alipay citizen center (支付宝市民中心) channel: auth code → Alipay user id; Alipay wap pay."""
