"""Loads the policy tables (config/policies/*.json) into a PolicyBook."""
from __future__ import annotations

import json
from pathlib import Path

from app.domain.policy import PolicyBook, policy_from_dict


def load_policy_book(directory: str | Path) -> PolicyBook:
    policies = []
    for path in sorted(Path(directory).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        policies += [policy_from_dict(item) for item in data["policies"]]
    return PolicyBook(policies)
