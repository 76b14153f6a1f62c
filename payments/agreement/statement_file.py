"""The bank's day statement (对账文件), our side: check it whole, then read its lines as a stream.

Format (UTF-8, ``|``-separated, as the batch files in ``batch_file.py``)::

    H|SBFSTMT|1.0|<bank_code>|<day yyyyMMdd>|<created yyyyMMddHHmmss>
    D|<seq>|<request_id or batch line key>|<agreement_no>|<amount_fen>|<bank_txn_no>|<settled yyyyMMddHHmmss>
    T|<count>|<sum_fen>|<mac>

Every line is a debit that took money on that Beijing day; the request id of a single debit
is our order number, and a batch line's key is its order's number too, so the lines match our
orders one to one. Times are Beijing time. The MAC (hex HMAC-SHA256 under the shared key) covers
every byte before it, as in the batch files.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import date
from pathlib import Path
from typing import Iterator

from payments.agreement.batch_file import beijing_time, decoded
from payments.bank import BadBankFile
from payments.base import StatementLine

KIND, VERSION = "SBFSTMT", "1.0"


def check_statement(path: Path, key: bytes, bank_code: str, day: date) -> tuple[int, int]:
    """Read the file once: the header for this bank and day, every line's shape, count, sum and MAC."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    count = total = 0
    header = trailer = None
    with open(path, "rb") as f:
        for raw in f:
            if raw.startswith(b"T|"):
                trailer = decoded(raw, "the trailer")
                mac.update((trailer.rpartition("|")[0] + "|").encode("utf-8"))
                break
            mac.update(raw)
            fields = decoded(raw, f"line {count + 1}").split("|")
            if header is None:
                header = fields
                if len(fields) != 6 or fields[:3] != ["H", KIND, VERSION]:
                    raise BadBankFile("bad_header", raw[:80].decode("utf-8", "replace"))
                if fields[3] != bank_code or fields[4] != f"{day:%Y%m%d}":
                    raise BadBankFile("wrong_statement", f"statement of {fields[3]} {fields[4]}, expected {day}")
                continue
            if len(fields) != 7 or fields[0] != "D" or not fields[2] or not fields[4].isdigit() \
                    or beijing_time(fields[6]) is None:
                raise BadBankFile("bad_line", f"line {count + 1}")
            count += 1
            total += int(fields[4])
        else:
            raise BadBankFile("no_trailer", "the statement ends without a trailer")
    parts = trailer.split("|")
    if header is None or len(parts) != 4:
        raise BadBankFile("bad_trailer", trailer[:80])
    if not hmac.compare_digest(mac.hexdigest(), parts[3]):
        raise BadBankFile("bad_mac", "the MAC does not match the statement")
    if [parts[1], parts[2]] != [str(count), str(total)]:
        raise BadBankFile("bad_trailer", f"trailer says {parts[1:3]}, lines add up to {[count, total]}")
    return count, total


def statement_lines(path: Path, remove_after: bool = False) -> Iterator[StatementLine]:
    """The lines of a checked statement (``check_statement`` first), read as they are consumed."""
    try:
        with open(path, "rb") as f:
            next(f)  # header
            for raw in f:
                if raw.startswith(b"T|"):
                    return
                p = raw.rstrip(b"\r\n").decode("utf-8").split("|")
                yield StatementLine("payment", p[2], int(p[4]), provider_trade_no=p[5] or None, at=beijing_time(p[6]))
    finally:
        if remove_after:
            path.unlink(missing_ok=True)
