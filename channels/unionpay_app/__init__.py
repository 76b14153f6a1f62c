"""The 云闪付 app channel: the app's user authorization → openId; its menus; UnionPay payment."""
