"""Local identity providers for the channels, beside the payment sandboxes.

Each speaks its platform's real protocol so the channel adapters run their real code path
(wechatpy, python-alipay-sdk, our 云闪付 open-platform client) offline:
- ``wechat``: WeChat's web OAuth (snsapi_base code → openid), access token, JS-SDK ticket and
  custom menu API; ``wechat_server`` calls our message endpoint as WeChat's server does;
- ``unionpay_open``: 云闪付's open-platform user authorization (backend token + code → openId);
- the Alipay citizen-center login (``alipay.system.oauth.token``) is served by the Alipay
  payment sandbox itself (``payments/sandbox/alipay/oauth.py``), as it is one gateway at Alipay.

``create_sandbox_app(key_dir, time_scale=1.0)`` builds each one, like the payment sandboxes;
``wiring`` gives the channel settings that point at them and serves them.
"""
