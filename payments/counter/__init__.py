"""The bank counter provider (银行端查询缴费凭证): printable vouchers, paid at a bank and confirmed by it."""
