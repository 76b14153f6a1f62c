"""The bank's batch debit files (扣款文件 / 回盘文件), our side: write requests, read results.

Format (UTF-8, one record a line, fields separated by ``|``, no field may hold ``|`` or a
line break), the shape of the banks' batch collection files (批量代收付文件): a header, the
lines, and a trailer with the count, the sum in fen and a MAC.

Request (ours)::

    H|SBFDEBIT|1.0|<file_id>|<bank_code>|<due_date yyyyMMdd>|<created yyyyMMddHHmmss>
    D|<seq>|<line_key>|<agreement_no>|<amount_fen>|<memo>
    T|<count>|<sum_fen>|<mac>

Result (the bank's)::

    H|SBFRESULT|1.1|<file_id>|<bank_code>|<due_date>|<created>
    D|<seq>|<line_key>|<agreement_no>|<amount_fen>|<code>|<bank_txn_no>|<debited_at>|<message>
    T|<count>|<sum_fen>|<ok_count>|<ok_sum_fen>|<mac>

Times are ``yyyyMMddHHmmss`` in Beijing time. ``debited_at`` is when the bank took the money
(``00`` lines; empty on the others): a debit belongs to that day, whenever its result file is
read, as the bank's day statement (``statement_file.py``) dates it. Version 1.1 added it; a 1.0
file, which cannot say it, is refused.

MAC = lowercase hex HMAC-SHA256 under the key shared with the bank, over every byte of the
file before the MAC field (header, lines and the trailer up to and including its last ``|``).
Written and read as streams: a million lines never sit in memory.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime
from pathlib import Path
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from payments.bank import BadBankFile, BatchLine, ResultLine

REQUEST_KIND, RESULT_KIND, VERSION, RESULT_VERSION = "SBFDEBIT", "SBFRESULT", "1.0", "1.1"
DEBITED = "00"
_BEIJING = ZoneInfo("Asia/Shanghai")


def decoded(raw: bytes, where: str) -> str:
    """One record's text without its line break; bytes that are not UTF-8 refuse the file, never crash the reader."""
    try:
        return raw.rstrip(b"\r\n").decode("utf-8")
    except UnicodeDecodeError:
        raise BadBankFile("bad_encoding", f"{where} is not UTF-8") from None


def clean(text: str) -> str:
    """A field value the format can carry: no separator, no line break."""
    return text.replace("|", " ").replace("\r", " ").replace("\n", " ")


def write_request(path: Path, key: bytes, file_id: str, bank_code: str, due_date: date, created_at: datetime,
                  lines: Iterable[BatchLine]) -> tuple[int, int]:
    """Stream a request file; returns (count, sum_fen)."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    count = total = 0
    tmp = Path(str(path) + ".part")
    with open(tmp, "wb") as out:
        def put(record: str) -> None:
            data = record.encode("utf-8")
            mac.update(data)
            out.write(data)

        put(f"H|{REQUEST_KIND}|{VERSION}|{file_id}|{bank_code}|{due_date:%Y%m%d}|{created_at:%Y%m%d%H%M%S}\n")
        for line in lines:
            count += 1
            total += line.amount_fen
            put(f"D|{line.seq}|{line.line_key}|{line.agreement_no}|{line.amount_fen}|{clean(line.memo)}\n")
        put(f"T|{count}|{total}|")
        out.write(mac.hexdigest().encode() + b"\n")
    tmp.replace(path)  # a crash mid-write never leaves a file that looks whole
    return count, total


def check_result(path: Path, key: bytes, file_id: str) -> tuple[int, int]:
    """Read the whole result file once: header for our file, counts, sums and MAC. Returns (count, sum)."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    count = total = ok_count = ok_total = 0
    header = trailer = None
    with open(path, "rb") as f:
        for raw in f:
            if raw.startswith(b"T|"):
                trailer = decoded(raw, "the trailer")
                head, _, given_mac = trailer.rpartition("|")
                mac.update((head + "|").encode("utf-8"))
                break
            mac.update(raw)
            fields = decoded(raw, f"line {count + 1}").split("|")
            if header is None:
                header = fields
                if fields[:3] != ["H", RESULT_KIND, RESULT_VERSION] or len(fields) != 7:
                    raise BadBankFile("bad_header", raw[:80].decode("utf-8", "replace"))
                if fields[3] != file_id:
                    raise BadBankFile("wrong_file", f"result for {fields[3]}, expected {file_id}")
                continue
            if len(fields) != 9 or fields[0] != "D" or not fields[1].isdigit():
                raise BadBankFile("bad_line", f"line {count + 1}")
            try:
                amount = int(fields[4])
            except ValueError:
                raise BadBankFile("bad_amount", f"line {count + 1}") from None
            if fields[5] == DEBITED and beijing_time(fields[7]) is None:
                raise BadBankFile("bad_line", f"line {count + 1}: a debit without the time it was taken")
            count += 1
            total += amount
            if fields[5] == DEBITED:
                ok_count += 1
                ok_total += amount
        else:
            raise BadBankFile("no_trailer", "the file ends without a trailer")
    parts = trailer.split("|")
    if header is None or len(parts) != 6:
        raise BadBankFile("bad_trailer", trailer[:80])
    if not hmac.compare_digest(mac.hexdigest(), parts[5]):
        raise BadBankFile("bad_mac", "the MAC does not match the file")
    if [count, total, ok_count, ok_total] != [_int(p) for p in parts[1:5]]:
        raise BadBankFile("bad_trailer", f"trailer says {parts[1:5]}, lines add up to "
                                         f"{[count, total, ok_count, ok_total]}")
    return count, total


def read_result(path: Path, key: bytes, file_id: str) -> Iterator[ResultLine]:
    """Check the whole file first (``check_result``), then yield its lines."""
    check_result(path, key, file_id)
    return _lines(path)


def _lines(path: Path) -> Iterator[ResultLine]:
    with open(path, "rb") as f:
        next(f)  # header
        for raw in f:
            if raw.startswith(b"T|"):
                return
            p = raw.rstrip(b"\r\n").decode("utf-8").split("|")
            yield ResultLine(seq=int(p[1]), line_key=p[2], agreement_no=p[3], amount_fen=int(p[4]), code=p[5],
                             bank_txn_no=p[6], message=p[8], debited_at=beijing_time(p[7]) if p[5] == DEBITED else None)


def beijing_time(text: str) -> datetime | None:
    """A ``yyyyMMddHHmmss`` of the bank's files, in Beijing time; None when it is not one."""
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=_BEIJING)
    except ValueError:
        return None


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None
