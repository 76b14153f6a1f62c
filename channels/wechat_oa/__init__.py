"""The WeChat official account (公众号) channel: OAuth, message endpoint, menu, JS-SDK; WeChat Pay JSAPI."""
