"""The WeChat city services (微信城市服务) channel: entry with the city chosen, OAuth as the account's."""
