"""In-memory fakes of the account ports, answering as the adapters do, for unit tests of the account services."""
from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime

from app.adapters.clock import SHANGHAI, FixedClock
from app.adapters.ephemeral import MemoryStore
from app.services.account_ports import AccountDeps, AccountSettings
from tests.fakes import FakeUnitOfWork


class FakeAccounts:
    def __init__(self, store):
        self.s = store

    def _find(self, match):
        return next((copy.copy(a) for a in self.s.accounts.values() if match(a)), None)

    def get(self, account_id):
        return copy.copy(self.s.accounts.get(account_id))

    def find_by_username(self, username):
        return self._find(lambda a: a.username == username)

    def find_by_phone(self, phone):
        return self._find(lambda a: a.phone == phone)

    def find_by_document(self, id_type, id_number):
        return self._find(lambda a: (a.id_type, a.id_number) == (id_type, id_number))

    def add(self, account):  # the unique indexes of the real table
        if any(a.username == account.username or (a.id_type, a.id_number) == (account.id_type, account.id_number)
               or (account.phone and a.phone == account.phone) for a in self.s.accounts.values()):
            return None
        account.id = next(self.s.ids)
        self.s.accounts[account.id] = copy.copy(account)
        return account

    def clear_phone(self, account_id):
        self.s.accounts[account_id].phone = None

    def set_phone(self, account_id, phone):
        if any(a.phone == phone and a.id != account_id for a in self.s.accounts.values()):
            return False
        self.s.accounts[account_id].phone = phone
        return True

    def set_password(self, account_id, password_hash, at):
        self.s.accounts[account_id].password_hash = password_hash

    def record_consent(self, account_id, document, version, at):
        self.s.accounts[account_id].consent_version = version

    def link_person(self, account_id, person_id):
        if self.s.accounts[account_id].person_id is None:
            self.s.accounts[account_id].person_id = person_id


class FakeAccountsUnitOfWork(FakeUnitOfWork):
    def __init__(self):
        super().__init__()
        self.committed.accounts = {}

    def __enter__(self):
        super().__enter__()
        self.accounts = FakeAccounts(self._work)
        return self


class FakeHasher:
    """Salted SHA-256, and it counts its work, so a test can see unknown users cost the same."""

    def __init__(self):
        self.verifications = 0

    def hash(self, password):
        return "fake$" + hashlib.sha256(b"salt" + password.encode()).hexdigest()

    def verify(self, password_hash, password):
        self.verifications += 1
        return password_hash == self.hash(password)

    def verify_dummy(self, password):
        self.verify(self.hash("dummy"), password)


class FakeStrength:
    """zxcvbn's scale: long passwords that avoid the person's own data score 4."""

    def score(self, password, user_inputs):
        if any(u and u.lower() in password.lower() for u in user_inputs) or len(set(password)) < 8:
            return 1
        return 4 if len(password) >= 12 else 2


class FakeSms:
    def __init__(self):
        self.sent: list[tuple[str, str]] = []
        self.down = False

    def send(self, phone, text):
        if self.down:
            raise RuntimeError("gateway down")
        self.sent.append((phone, text))
        return str(len(self.sent))

    def last_code(self, phone):
        import re

        return re.search(r"验证码为(\d{6})", [t for p, t in self.sent if p == phone][-1]).group(1)


class FakeVerifier:
    def __init__(self):
        self.checks: dict[str, str] = {}

    def start(self, name, id_type, id_number, return_url):
        check_id = f"check-{len(self.checks) + 1}"
        self.checks[check_id] = "pending"
        return check_id, f"https://verify.example/{check_id}"

    def result(self, check_id):
        return self.checks.get(check_id, "failed")


class FakeHuman:
    def __init__(self):
        self.used: set[str] = set()

    def challenge(self):
        return {"challenge": "c"}

    def verify(self, payload):
        """Any payload starting with "solved" is a solution, good once (as ALTCHA with its replay store)."""
        if not payload.startswith("solved") or payload in self.used:
            return False
        self.used.add(payload)
        return True


class FakeLimiter:
    """Counts hits per key against the first number of the limit (e.g. 5 of "5 per 10 minutes")."""

    def __init__(self):
        self.hits: dict[str, int] = {}

    def exceeded(self, limit, key):
        return self.hits.get(key, 0) >= int(limit.split()[0])

    def hit(self, limit, key):
        self.hits[key] = self.hits.get(key, 0) + 1


class FakeSealer:
    def seal(self, data):
        return json.dumps(data)[::-1]

    def unseal(self, sealed):
        return json.loads(sealed[::-1])


def fake_deps(now: datetime = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)) -> AccountDeps:
    uow = FakeAccountsUnitOfWork()
    return AccountDeps(uow=lambda: uow, clock=FixedClock(now), hasher=FakeHasher(), strength=FakeStrength(),
                       sms=FakeSms(), verifier=FakeVerifier(), human=FakeHuman(), limiter=FakeLimiter(),
                       store=MemoryStore(), settings=AccountSettings(code_secret=b"k", ticket_secret=b"t",
                                                                     sms_limit_per_phone="3 per minute"),
                       sealer=FakeSealer())
