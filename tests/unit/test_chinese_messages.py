"""Every message a payer can see is Chinese: the HTTP error catalogue, every domain error raised
anywhere in the code, and the translated marshmallow messages of every field type and validator
the request schemas use (and the request schemas use nothing else)."""
from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import marshmallow
import pytest

from app.api import channel_schemas, fields as f, schemas
from app.errors import FALLBACK, HTTP_MESSAGES

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
# Latin words a Chinese message may carry: formats and names a payer meets on forms
ALLOWED_LATIN = {"JSON", "CSV", "UTF", "PDF", "YYYY", "MM", "DD", "true", "false", "No"}
ERROR_CLASSES = {"DomainError", "InvalidInput", "NotFound", "Conflict", "Forbidden", "Unauthenticated",
                 "TooManyAttempts", "ServiceUnavailable", "RowError", "ImageFontMissing"}


def is_chinese(message: str) -> bool:
    """Chinese text: some CJK characters, and no Latin words but the allowed ones."""
    words = set(re.findall(r"[A-Za-z]{2,}", re.sub(r"\{[^}]*\}", "", message)))
    return bool(CJK.search(message)) and words <= ALLOWED_LATIN


def test_the_check_itself_tells_english_from_chinese():
    assert is_chinese("请先完成身份确认") and is_chinese("请以JSON提交") and is_chinese("不能超过{max}个字符")
    assert not is_chinese("Missing data for required field.") and not is_chinese("请求 invalid")


@pytest.mark.parametrize("status", sorted(HTTP_MESSAGES))
def test_every_http_error_message_is_chinese(status):
    code, message = HTTP_MESSAGES[status]
    assert re.fullmatch(r"[a-z_]+", code) and is_chinese(message), (status, message)
    assert is_chinese(FALLBACK[1])


def _messages_of_raises():
    """Each literal message of a domain error raised in the code (f-strings: their literal parts)."""
    for path in sorted([*ROOT.glob("app/**/*.py"), *ROOT.glob("channels/**/*.py")]):
        if "tests" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ERROR_CLASSES:
                args = [a for a in node.args if not isinstance(a, ast.Starred)]
                if len(args) >= 2:
                    yield path, node.lineno, args[1]
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 2:
                code, message = node.value.elts  # ("code", "message") pairs raised with *PAIR
                if (isinstance(code, ast.Constant) and isinstance(code.value, str)
                        and re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", code.value)
                        and isinstance(message, (ast.Constant, ast.JoinedStr)) and CJK.search(_literal(message))):
                    yield path, node.lineno, message


def _literal(node) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return ""


def test_every_domain_error_raised_in_the_code_speaks_chinese():
    found = list(_messages_of_raises())
    assert len(found) > 100  # the catalogue is really walked
    english = [f"{path.relative_to(ROOT)}:{line}: {_literal(node)!r}" for path, line, node in found
               if isinstance(node, (ast.Constant, ast.JoinedStr)) and not is_chinese(_literal(node))]
    assert not english, "\n".join(english)


@pytest.mark.parametrize("field_type", f.FIELD_TYPES, ids=lambda t: t.__name__)
def test_every_field_type_says_each_of_its_errors_in_chinese(field_type):
    field = field_type(marshmallow.fields.String()) if field_type is f.List else (
        field_type(marshmallow.Schema) if field_type is f.Nested else field_type())
    assert field.error_messages, field_type
    for key, message in field.error_messages.items():
        assert is_chinese(message), (field_type.__name__, key, message)


def test_every_validator_and_the_schema_messages_are_chinese():
    refusals = [(f.Length(min=1), ""), (f.Length(max=2), "abc"), (f.Length(min=1, max=2), "abc"),
                (f.Length(equal=3), "ab"), (f.Range(min=1), 0), (f.Range(max=2), 3), (f.Range(min=1, max=2), 3),
                (f.OneOf(["a"], labels=["甲"]), "b"), (f.Regexp(r"^\d$"), "x")]
    for validator, value in refusals:
        with pytest.raises(marshmallow.ValidationError) as refused:
            validator(value)
        assert all(is_chinese(m) for m in refused.value.messages), (validator, refused.value.messages)
    assert all(is_chinese(m) for m in f.SCHEMA_MESSAGES.values())


def _request_schemas():
    for module in (schemas, channel_schemas):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, marshmallow.Schema) and cls.__module__ == module.__name__ and cls.__name__.endswith(
                    ("In", "Query")):
                yield cls


def _fields(schema_field):
    yield schema_field
    if isinstance(schema_field, marshmallow.fields.List):
        yield from _fields(schema_field.inner)


@pytest.mark.parametrize("schema", list(_request_schemas()), ids=lambda s: s.__name__)
def test_request_schemas_use_only_the_translated_fields_and_validators(schema):
    assert issubclass(schema, f.InSchema), schema
    for name, declared in schema().fields.items():
        for field in _fields(declared):
            assert isinstance(field, f.FIELD_TYPES), (schema.__name__, name, type(field))
            for validator in field.validators:
                assert isinstance(validator, f.VALIDATOR_TYPES), (schema.__name__, name, validator)
