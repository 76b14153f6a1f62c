"""The bank's HTTP API as our side speaks it: MAC-authenticated JSON calls and file transfers.

Every request carries ``X-Bank-Timestamp`` and ``X-Bank-Mac`` (hex HMAC-SHA256 under the key
shared with the bank over ``METHOD\\nPATH\\nTIMESTAMP\\nBODY``); every answer's ``X-Bank-Mac``
is checked over its body before a word of it is believed. Files are streamed both ways and
their MAC computed as they pass, so a million-line file never sits in memory.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

log = logging.getLogger(__name__)
CHUNK = 1 << 16


class BankTrouble(Exception):
    """Network trouble, a 5xx or an answer whose MAC does not match: the outcome is unknown."""


class BankClient:
    def __init__(self, api_url: str, key: bytes, timeout: float = 10.0):
        self.api_url = api_url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.session = requests.Session()

    def _headers(self, method: str, path: str, body_mac) -> dict:
        stamp = str(int(time.time()))
        mac = hmac.new(self.key, f"{method}\n{urlsplit(self.api_url).path}{path}\n{stamp}\n".encode(), hashlib.sha256)
        body_mac(mac)
        return {"X-Bank-Timestamp": stamp, "X-Bank-Mac": mac.hexdigest()}

    def call(self, method: str, path: str, payload: dict | None = None) -> tuple[int, dict]:
        """A JSON call; (status, answer). Raises BankTrouble when the outcome is unknown."""
        body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else b""
        headers = self._headers(method, path, lambda m: m.update(body))
        headers["Content-Type"] = "application/json"
        try:
            answer = self.session.request(method, self.api_url + path, data=body, headers=headers,
                                          timeout=self.timeout)
        except requests.RequestException as exc:
            raise BankTrouble(f"{method} {path}: {exc}") from exc
        if answer.status_code >= 500:
            raise BankTrouble(f"{method} {path}: HTTP {answer.status_code}")
        self._check_mac(answer.content, answer.headers.get("X-Bank-Mac", ""), path)
        try:
            return answer.status_code, answer.json()
        except ValueError as exc:
            raise BankTrouble(f"{method} {path}: unreadable answer") from exc

    def _check_mac(self, body: bytes, given: str, path: str) -> None:
        if not hmac.compare_digest(hmac.new(self.key, body, hashlib.sha256).hexdigest(), given):
            raise BankTrouble(f"{path}: the answer's MAC does not match")

    def upload(self, path: str, file_path: Path) -> tuple[int, dict]:
        """POST a file as the body, streamed from disk (its MAC is computed in a first pass)."""
        def body_mac(mac):
            with open(file_path, "rb") as f:
                while chunk := f.read(CHUNK):
                    mac.update(chunk)

        headers = self._headers("POST", path, body_mac)
        headers["Content-Type"] = "text/plain; charset=utf-8"
        try:
            with open(file_path, "rb") as f:
                answer = self.session.post(self.api_url + path, data=f, headers=headers, timeout=self.timeout * 30)
        except requests.RequestException as exc:
            raise BankTrouble(f"POST {path}: {exc}") from exc
        if answer.status_code >= 500:
            raise BankTrouble(f"POST {path}: HTTP {answer.status_code}")
        self._check_mac(answer.content, answer.headers.get("X-Bank-Mac", ""), path)
        return answer.status_code, answer.json()

    def download(self, path: str, target: Path) -> tuple[int, dict | None]:
        """GET a file into ``target`` (written whole or not at all); (status, error answer or None)."""
        headers = self._headers("GET", path, lambda m: None)
        try:
            with self.session.get(self.api_url + path, headers=headers, timeout=self.timeout * 30,
                                  stream=True) as answer:
                if answer.status_code >= 500:
                    raise BankTrouble(f"GET {path}: HTTP {answer.status_code}")
                if answer.status_code != 200:
                    body = answer.content
                    self._check_mac(body, answer.headers.get("X-Bank-Mac", ""), path)
                    return answer.status_code, json.loads(body)
                mac = hmac.new(self.key, digestmod=hashlib.sha256)
                part = Path(str(target) + ".part")
                with open(part, "wb") as out:
                    for chunk in answer.iter_content(CHUNK):
                        mac.update(chunk)
                        out.write(chunk)
                if not hmac.compare_digest(mac.hexdigest(), answer.headers.get("X-Bank-Mac", "")):
                    part.unlink(missing_ok=True)
                    raise BankTrouble(f"GET {path}: the file's transfer MAC does not match")
                part.replace(target)
                return 200, None
        except requests.RequestException as exc:
            raise BankTrouble(f"GET {path}: {exc}") from exc
