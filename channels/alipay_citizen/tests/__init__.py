"""Tests of the alipay_citizen channel adapter."""
