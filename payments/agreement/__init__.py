"""Debit agreements (委托扣款协议): agreement payment (协议缴纳) and the bank's batch files."""
