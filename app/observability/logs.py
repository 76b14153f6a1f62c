"""JSON log lines (python-json-logger) with the request id, and a last guard against secrets.

``configure_logging(level, fmt)`` sets up the root logger once per process: one JSON object a
line on stderr — ``time``, ``level``, ``logger``, ``message``, ``request_id`` and the fields a
line carries (``app/services/events.py`` puts the business facts there). ``fmt="text"`` is for
a person at a terminal. Every line passes ``scrub``: a resident ID number, a mobile number, or
the value of ``code``, ``auth_code``, ``token``, ``sign`` or ``signature`` in a URL or form is
replaced, and terminal colour codes are dropped — the events never carry them, and a library logging a request line must not either.
"""
from __future__ import annotations

import contextvars
import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_SECRETS_IN_QUERY = re.compile(r"(?i)\b(code|auth_code|authcode|token|access_token|sign|signature|openid|id_number)"
                               r"=([^&\s\"']+)")
# Digits inside a lowercase hex token (a request id, a uuid, a digest) are not a number: a request id
# holds eleven digits in a row about once in a hundred, and masking them broke the id that ties a
# request's lines together. A number next to any other letter, a CJK character or punctuation is masked.
_ID_NUMBER = re.compile(r"(?<![0-9a-f])([1-9][0-9]{5})(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:[0-3][0-9])[0-9]{3}"
                        r"[0-9Xx](?![0-9a-f])")
_MOBILE = re.compile(r"(?<![0-9a-f])1[3-9][0-9]{9}(?![0-9a-f])")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # werkzeug colours its lines for a terminal
_configured = False


_ELEVEN_DIGITS = re.compile(r"[0-9]{11}")  # in every document number (17 in a row) and every mobile number


def scrub(text: str) -> str:
    """The text with document numbers, phone numbers and authorization values masked.

    Every line passes here, so each pattern runs only where it can match: colour codes need an
    escape, a URL or form value an ``=``, a document or mobile number eleven digits in a row.
    """
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "=" in text:
        text = _SECRETS_IN_QUERY.sub(lambda m: f"{m.group(1)}=***", text)
    if _ELEVEN_DIGITS.search(text) is None:
        return text
    text = _ID_NUMBER.sub(lambda m: m.group(1) + "********" + m.group(0)[-4:], text)
    return _MOBILE.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], text)


class RequestIdFilter(logging.Filter):
    """Stamps each record with the request (or job) id of the context it was logged in."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get()
        return True


class ScrubbingJsonFormatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class ScrubbingTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def handler(fmt: str = "json") -> logging.Handler:
    """A stderr handler in the given format, with the request id and the scrubbing."""
    out = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        out.setFormatter(ScrubbingJsonFormatter(
            "{asctime}{levelname}{name}{message}{request_id}", style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z", json_ensure_ascii=False))
    else:
        out.setFormatter(ScrubbingTextFormatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    out.addFilter(RequestIdFilter())
    return out


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Route every logger of this process through one handler (once; later calls only set the level)."""
    global _configured
    root = logging.getLogger()
    root.setLevel(level.upper())
    if _configured:
        return
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(fmt))
    for name in ("gunicorn.error", "rq.worker", "werkzeug"):  # theirs go through ours, once
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # chatty at import
    _configured = True
