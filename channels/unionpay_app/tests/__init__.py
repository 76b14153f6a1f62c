"""Tests of the unionpay_app channel adapter."""
