"""What the bench puts in its scratch database before measuring, all of it fictional.

* Policies: the project's tables plus two fictional regions (990000 for the pay flow, 990100 for
  the bulk declaration) whose resident medical year is the current one with a window of the whole
  year, so the bench runs whatever the date.
* Pay-flow residents: people who can identify (real AES-GCM ciphertexts and blind indexes made
  with the run's keys, ID numbers with valid check digits), loaded with COPY.
* Orders waiting for a notification: placeholder residents, their assessments held by an order
  in state ``paying`` at WeChat Pay, made by set-based SQL — as ``create_order`` leaves them.
* Bulk residents: N persons and enrollments made by set-based SQL (``generate_series``). Their
  blind index is a SHA-256 of a counter (64 hex characters like the real HMAC) and every one
  carries the same ciphertext of a placeholder name and number — real ciphertexts that decrypt,
  made once in Python, because PostgreSQL cannot do AES-GCM.
"""
from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import psycopg

from app.adapters.crypto import FieldCipher
from app.domain.documents import resident_id_check_char

FLOW_REGION = "990000"
BULK_REGION = "990100"
FIXED_AMOUNT_FEN = 40000
SUBSIDY_FEN = 70000
NOTIFY_ORDER_PREFIX = "N"


def write_policies(target: Path, source: Path, year: int) -> Path:
    """The project's policy tables plus the bench's fictional regions for ``year`` (the bulk's also for the next)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.glob("*.json"):
        shutil.copy(path, target / path.name)
    why = "bench value: a fictional region of the benchmark, not a published figure"
    policies = [{
        "region": region, "region_name": name, "year": year, "insurance": "medical", "category": "resident",
        "scheme": "fixed", "period_unit": "year", "collection_start": f"{year}-01-01",
        "collection_end": f"{year}-12-31", "fixed_amount_fen": FIXED_AMOUNT_FEN, "subsidy_fen": SUBSIDY_FEN,
        "sources": {"fixed_amount_fen": why, "subsidy_fen": why},
    } for region, name in ((FLOW_REGION, "基准测试区（虚构）"), (BULK_REGION, "基准批量区（虚构）"))]
    # the bulk declaration makes the next year, whose collection opens in this one (集中征收期), before
    # any payer has declared it: the year the flows declare already has rows, and is made row by row
    policies.append({**policies[1], "year": year + 1, "collection_start": f"{year}-01-01",
                     "collection_end": f"{year + 1}-12-31"})
    (target / "zz_bench.json").write_text(json.dumps({"policies": policies}, ensure_ascii=False, indent=1),
                                          encoding="utf-8")
    return target


def flow_people(count: int) -> list[tuple[str, str]]:
    """(name, resident ID number) of ``count`` fictional people; the numbers pass the check digit."""
    people = []
    first_day = date(1960, 1, 1).toordinal()
    for i in range(count):
        body = f"520102{date.fromordinal(first_day + i // 500):%Y%m%d}{i % 500:03d}"
        people.append((f"基准{i}", body + resident_id_check_char(body)))
    return people


def load_flow_people(conninfo: str, cipher: FieldCipher, people: list[tuple[str, str]]) -> None:
    """Persons who can identify, each with an active resident medical enrollment in the flow region."""
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        with cur.copy("COPY person (id_type, id_number_index, id_number_enc, name_enc, created_at) FROM STDIN") as cp:
            for name, number in people:
                cp.write_row(("resident_id", cipher.blind_index("resident_id", number),
                              cipher.encrypt(number, "person.id_number"), cipher.encrypt(name, "person.name"), "now"))
        cur.execute("""
            INSERT INTO enrollment (person_id, insurance, region, category, insured_number, start_month, status,
                                    source_bureau, created_at)
            SELECT id, 'medical', %(region)s, 'resident', 'F' || lpad(id::text, 12, '0'), '2020-01', 'active',
                   'medical', now()
            FROM person WHERE id_number_index = ANY(%(indexes)s)""",
                    {"region": FLOW_REGION,
                     "indexes": [cipher.blind_index("resident_id", number) for _, number in people]})


def _placeholders(cipher: FieldCipher) -> dict:
    return {"number": cipher.encrypt("000000000000000000", "person.id_number"),
            "name": cipher.encrypt("居民", "person.name")}


def create_paying_orders(conninfo: str, cipher: FieldCipher, count: int, year: int, tag: str) -> list[str]:
    """``count`` orders paying at WeChat Pay, one resident assessment each; returns their order numbers."""
    params = {"n": count, "tag": f"{tag}:", "region": FLOW_REGION, "year": year, "amount": FIXED_AMOUNT_FEN,
              "subsidy": SUBSIDY_FEN, "prefix": NOTIFY_ORDER_PREFIX, **_placeholders(cipher)}
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        cur.execute("""
            WITH p AS (
                INSERT INTO person (id_type, id_number_index, id_number_enc, name_enc, created_at)
                SELECT 'resident_id', encode(sha256(convert_to(%(tag)s || g, 'UTF8')), 'hex'), %(number)s, %(name)s,
                       now()
                FROM generate_series(1, %(n)s) g
                RETURNING id)
            INSERT INTO enrollment (person_id, insurance, region, category, insured_number, start_month, status,
                                    source_bureau, created_at)
            SELECT id, 'medical', %(region)s, 'resident', 'N' || lpad(id::text, 12, '0'), '2020-01', 'active',
                   'medical', now()
            FROM p""", params)
        cur.execute("""
            WITH a AS (
                INSERT INTO assessment (enrollment_id, person_id, insurance, region, period_start, period_end,
                                        amount_fen, kind, notice_number, state, subsidy_fen, declared_at)
                SELECT e.id, e.person_id, 'medical', e.region, make_date(%(year)s, 1, 1), make_date(%(year)s, 12, 31),
                       %(amount)s, 'regular', e.region || to_char(now(), 'YYYYMMDD') || lpad(e.id::text, 12, '0'),
                       'paying', %(subsidy)s, now()
                FROM enrollment e
                WHERE e.insured_number LIKE 'N%%'
                  AND NOT EXISTS (SELECT 1 FROM assessment x WHERE x.enrollment_id = e.id)
                RETURNING id, period_start, person_id, amount_fen),
            o AS (
                INSERT INTO payment_order (order_no, channel, payer_person_id, provider, method, amount_fen, state,
                                           description, created_at, expires_at, version)
                SELECT %(prefix)s || lpad(a.id::text, 15, '0'), 'api', a.person_id, 'wechatpay', 'native',
                       a.amount_fen, 'paying', '社保费缴费-医疗', now(), now() + interval '2 hours', 1
                FROM a
                RETURNING id, order_no)
            INSERT INTO order_item (order_id, assessment_id, assessment_period_start, person_id, amount_fen, live)
            SELECT o.id, a.id, a.period_start, a.person_id, a.amount_fen, true
            FROM a JOIN o ON o.order_no = %(prefix)s || lpad(a.id::text, 15, '0')
            RETURNING order_id""", params)
        made = cur.rowcount
        cur.execute("""SELECT order_no FROM payment_order
                       WHERE order_no LIKE %(like)s AND state = 'paying' ORDER BY id DESC LIMIT %(n)s""",
                    {"like": NOTIFY_ORDER_PREFIX + "%", "n": count})
        orders = [r[0] for r in cur.fetchall()]
    if made != count or len(orders) != count:
        raise RuntimeError(f"made {made} orders, found {len(orders)}, wanted {count}")
    return orders[::-1]


def create_bulk_residents(conninfo: str, cipher: FieldCipher, count: int) -> dict:
    """``count`` active resident medical enrollments in the bulk region, set-based."""
    import time

    started = time.monotonic()
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        cur.execute("SET LOCAL synchronous_commit TO off")
        first = cur.execute("SELECT coalesce(max(id), 0) FROM person").fetchone()[0]
        cur.execute("""
            INSERT INTO person (id_type, id_number_index, id_number_enc, name_enc, created_at)
            SELECT 'resident_id', encode(sha256(convert_to('bulk:' || g, 'UTF8')), 'hex'), %(number)s, %(name)s,
                   now()
            FROM generate_series(1, %(n)s) g""", {"n": count, **_placeholders(cipher)})
        cur.execute("""
            INSERT INTO enrollment (person_id, insurance, region, category, insured_number, start_month, status,
                                    source_bureau, created_at)
            SELECT id, 'medical', %(region)s, 'resident', 'R' || lpad(id::text, 12, '0'), '2020-01', 'active',
                   'medical', now()
            FROM person WHERE id > %(first)s ORDER BY id""", {"region": BULK_REGION, "first": first})
        made = cur.rowcount
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE person")  # as autovacuum would after a load this size
        conn.execute("VACUUM ANALYZE enrollment")
    if made != count:
        raise RuntimeError(f"made {made} bulk enrollments, wanted {count}")
    return {"residents": count, "seconds": round(time.monotonic() - started, 2)}
