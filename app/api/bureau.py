"""The bureaus' push API: enrollments and special assessments, as JSON or CSV, behind an API key."""
from __future__ import annotations

import csv
import hmac
import io
import json
import re

from flask import abort, current_app, request
from flask.views import MethodView

from app.api import schemas as s
from app.api.deps import container
from app.api.parsing import Blueprint
from app.domain.errors import InvalidInput, Unauthenticated
from app.services import bureau

blp = Blueprint("bureau", __name__, url_prefix="/api/v1/bureau", description="人社、医保部门推送参保登记和特殊缴费")
API_KEY = [{"bureauApiKey": []}]
MAX_ROWS = 50_000
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")  # PostgreSQL and UTF-8 cannot hold these


def _authorize() -> None:
    given = request.headers.get("X-Api-Key", "")
    keys = container().settings["BUREAU_API_KEYS"]
    if not given or not any(hmac.compare_digest(given, k) for k in keys):
        raise Unauthenticated("api_key_invalid", "接口密钥无效")


def read_rows(content_type: str, body: bytes) -> list[dict]:
    """Rows from a JSON array (or {"rows": [...]}) or a CSV with a header line."""
    rows = _csv_rows(body) if content_type.startswith("text/csv") else _json_rows(body)
    if any(isinstance(v, str) and _UNSTORABLE.search(v) for row in rows for v in row.values()):
        raise InvalidInput("rows_characters", "提交的内容含有无效字符（空字符或不成对的代理字符）")
    return rows


def _csv_rows(body: bytes) -> list[dict]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("csv_encoding", "CSV文件应为UTF-8编码") from None
    return list(csv.DictReader(io.StringIO(text)))


def _json_rows(body: bytes) -> list[dict]:
    try:
        data = json.loads(body or b"null")
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's limit
        data = None
    if isinstance(data, dict):
        data = data.get("rows")
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InvalidInput("rows_format", "请提交JSON数组或带表头的CSV")
    return data


def _rows() -> list[dict]:
    _authorize()
    request.max_content_length = current_app.config["BUREAU_MAX_CONTENT_LENGTH"]  # pushes are large; said once
    rows = read_rows(request.content_type or "", request.get_data())
    if len(rows) > MAX_ROWS:
        abort(413)
    return rows


@blp.route("/enrollments")
class BureauEnrollments(MethodView):
    @blp.response(200, s.ImportReportOut)
    @blp.doc(security=API_KEY)
    def post(self):
        """Import enrollments (JSON array or text/csv); idempotent on the insured number."""
        c = container()
        return bureau.import_enrollments(_rows(), c.uow(), c.clock)


@blp.route("/special-assessments")
class BureauSpecial(MethodView):
    @blp.response(200, s.ImportReportOut)
    @blp.doc(security=API_KEY)
    def post(self):
        """Import special assessments (特殊缴费); idempotent on notice number and period."""
        c = container()
        return bureau.import_special_assessments(_rows(), c.uow(), c.clock)
