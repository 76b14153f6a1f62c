"""Where settings come from besides their class: one settings file, then ``SBF_*`` variables.

``SBF_SETTINGS_FILE`` names a JSON (``.json``) or TOML (``.toml``, read with the standard
``tomllib``) file whose top-level keys are setting names (``PAYMENT_PROVIDERS``,
``DATABASE_URL``, ...). An ``SBF_<NAME>`` variable then overrides the file. A variable's text
is read by the type of the setting's default: a dict or list setting takes JSON
(``SBF_PAYMENT_PROVIDERS='{"wechatpay": ["payments.wechatpay.provider:build", {...}]}'``), a
tuple takes a JSON array or a comma-separated list, a number or a flag (true/false) its text.
A value that cannot be read raises ``SettingsError`` naming the setting and where it came from.
"""
from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Mapping

PREFIX = "SBF_"
FILE_VARIABLE = "SBF_SETTINGS_FILE"
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """A setting is missing, malformed or refused; the message names the setting (配置项)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid settings (配置有误):\n  - " + "\n  - ".join(problems))


def read_settings_file(path: str | Path) -> dict[str, Any]:
    """The settings in a JSON or TOML file, by name."""
    path = Path(path)
    if not path.is_file():
        raise SettingsError([f"{FILE_VARIABLE}: no such file {path}"])
    try:
        if path.suffix.lower() == ".toml":
            with path.open("rb") as f:
                data = tomllib.load(f)
        elif path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
        else:
            raise SettingsError([f"{FILE_VARIABLE}: {path.name} must end in .json or .toml"])
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise SettingsError([f"{FILE_VARIABLE}: {path} is not valid {path.suffix[1:].upper()}: {error}"]) from None
    if not isinstance(data, dict):
        raise SettingsError([f"{FILE_VARIABLE}: {path} must hold a table of settings"])
    return data


def from_text(name: str, text: str, default: Any) -> Any:
    """An ``SBF_<name>`` variable's text as a value of the default's type."""
    where = PREFIX + name
    if isinstance(default, bool):
        if text.strip().lower() not in _TRUE | _FALSE:
            raise SettingsError([f"{where}: expected true or false, got {text!r}"])
        return text.strip().lower() in _TRUE
    if isinstance(default, (int, float)):
        try:
            return type(default)(text)
        except ValueError:
            raise SettingsError([f"{where}: expected a {type(default).__name__}, got {text!r}"]) from None
    if isinstance(default, (dict, list)) or (isinstance(default, tuple) and text.lstrip().startswith("[")):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise SettingsError([f"{where}: expected JSON ({error})"]) from None
        return tuple(value) if isinstance(default, tuple) and isinstance(value, list) else value
    if isinstance(default, tuple):
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return text


def apply_sources(values: dict[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``values`` with the settings file (if any) and then the ``SBF_*`` variables applied."""
    environ = os.environ if environ is None else environ
    problems: list[str] = []
    if environ.get(FILE_VARIABLE):
        for name, value in read_settings_file(environ[FILE_VARIABLE]).items():
            if name not in values:
                problems.append(f"{name}: not a setting (in {environ[FILE_VARIABLE]})")
                continue
            values[name] = tuple(value) if isinstance(values[name], tuple) and isinstance(value, list) else value
    for name in list(values):
        text = environ.get(PREFIX + name)
        if text is not None:
            try:
                values[name] = from_text(name, text, values[name])
            except SettingsError as error:
                problems.extend(error.problems)
    if problems:
        raise SettingsError(problems)
    return values
