"""Tests of the wechat_oa channel adapter."""
