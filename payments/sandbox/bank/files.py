"""The bank's side of the batch files: read a request file, write a result file.

Written apart from our client's ``payments/agreement/batch_file.py`` on purpose: the sandbox
checks the format as a bank would, so a mistake on our side shows instead of being mirrored.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

_BEIJING = ZoneInfo("Asia/Shanghai")


class FileRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


@dataclass(frozen=True)
class RequestLine:
    seq: int
    line_key: str
    agreement_no: str
    amount_fen: int
    memo: str


@dataclass(frozen=True)
class RequestFile:
    file_id: str
    bank_code: str
    due_date: str
    lines: list[RequestLine]
    digest: str  # sha256 of the whole file: the same file id must come with the same bytes


def parse_request(data: bytes, key: bytes) -> RequestFile:
    """Check header, every line, counts, sum and MAC; refuse the whole file at the first fault."""
    try:
        return _parse_request(data, key)
    except UnicodeDecodeError:
        raise FileRefused("BAD_FORMAT", "文件编码错误（须为UTF-8）") from None


def _parse_request(data: bytes, key: bytes) -> RequestFile:
    text_lines = data.split(b"\n")
    if text_lines and text_lines[-1] == b"":
        text_lines.pop()
    if len(text_lines) < 2:
        raise FileRefused("BAD_FORMAT", "文件不完整")
    header = text_lines[0].decode("utf-8").split("|")
    if len(header) != 7 or header[:3] != ["H", "SBFDEBIT", "1.0"]:
        raise FileRefused("BAD_HEADER", "文件头格式错误")
    trailer = text_lines[-1].decode("utf-8")
    parts = trailer.split("|")
    if len(parts) != 4 or parts[0] != "T":
        raise FileRefused("BAD_TRAILER", "文件尾格式错误")
    signed = data[:data.rindex(b"|") + 1]
    if not hmac.compare_digest(hmac.new(key, signed, hashlib.sha256).hexdigest(), parts[3]):
        raise FileRefused("BAD_MAC", "文件校验码错误")
    lines, seen = [], set()
    for n, raw in enumerate(text_lines[1:-1], start=1):
        f = raw.decode("utf-8").split("|")
        if len(f) != 6 or f[0] != "D" or not f[1].isdigit() or not f[4].isdigit() or not f[2]:
            raise FileRefused("BAD_LINE", f"第{n}行格式错误")
        if f[2] in seen:
            raise FileRefused("DUPLICATE_LINE", f"第{n}行流水号重复")
        seen.add(f[2])
        lines.append(RequestLine(int(f[1]), f[2], f[3], int(f[4]), f[5]))
    if str(len(lines)) != parts[1] or str(sum(x.amount_fen for x in lines)) != parts[2]:
        raise FileRefused("BAD_TRAILER", "文件尾笔数或金额与明细不符")
    return RequestFile(header[3], header[4], header[5], lines, hashlib.sha256(data).hexdigest())


def write_result(key: bytes, file_id: str, bank_code: str, due_date: str, created: datetime,
                 lines: list[tuple], sum_delta_fen: int = 0) -> bytes:
    """``lines``: (seq, line_key, agreement_no, amount_fen, code, txn_no, debited_at or None, message) tuples;
    times are written in Beijing time, as the bank's statement writes them."""
    out = [f"H|SBFRESULT|1.1|{file_id}|{bank_code}|{due_date}|{created.astimezone(_BEIJING):%Y%m%d%H%M%S}\n"]
    total = ok = ok_total = 0
    for seq, line_key, agreement_no, amount, code, txn, debited_at, message in lines:
        taken = f"{debited_at.astimezone(_BEIJING):%Y%m%d%H%M%S}" if debited_at else ""
        out.append(f"D|{seq}|{line_key}|{agreement_no}|{amount}|{code}|{txn}|{taken}|{message}\n")
        total += amount
        if code == "00":
            ok += 1
            ok_total += amount
    out.append(f"T|{len(lines)}|{total + sum_delta_fen}|{ok}|{ok_total}|")
    body = "".join(out).encode("utf-8")
    return body + hmac.new(key, body, hashlib.sha256).hexdigest().encode() + b"\n"


def write_statement(key: bytes, bank_code: str, day: str, created: datetime, lines: list[tuple]) -> bytes:
    """The day statement (对账文件); ``lines``: (request_id, agreement_no, amount_fen, txn_no, settled_at)."""
    out = [f"H|SBFSTMT|1.0|{bank_code}|{day}|{created:%Y%m%d%H%M%S}\n"]
    total = 0
    for seq, (request_id, agreement_no, amount, txn, settled_at) in enumerate(lines, start=1):
        out.append(f"D|{seq}|{request_id}|{agreement_no}|{amount}|{txn}|{settled_at:%Y%m%d%H%M%S}\n")
        total += amount
    out.append(f"T|{len(lines)}|{total}|")
    body = "".join(out).encode("utf-8")
    return body + hmac.new(key, body, hashlib.sha256).hexdigest().encode() + b"\n"
