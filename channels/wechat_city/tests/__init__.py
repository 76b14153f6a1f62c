"""Tests of the wechat_city channel adapter."""
