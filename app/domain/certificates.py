"""Payment certificates (完税（费）证明) and the rules of looking back at posted money.

- Treasury delay: posted money reaches the treasury (入库) some working days after posting;
  a certificate can only be issued from that day. Working days are Monday to Friday:
  public holidays and the make-up working weekends (调休) are NOT modelled, so around a
  holiday the date shown is earlier than the real one.
- Certificate numbers: region (6) + issue date (yymmdd) + serial (8) + a Luhn check digit,
  21 digits. The serial comes from the database (unique by construction), so numbers are
  not secret; a separate random verification code (查验码) printed beside the QR code keeps
  certificates from being looked up by guessing numbers.
- Issuing: a posted payment appears on at most one original certificate; asking again for
  the same periods is refused with a pointer to re-issue (补开). Payments not yet in the
  treasury are left out and reported with the day they become available.
- Re-issue: a new certificate with its own number, linked to the original (a re-issue of a
  re-issue links to the first original), refused once any of its payments was refunded.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from stdnum import luhn

from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.model import PAID, Assessment
from app.domain.periods import Month

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_DATE_RANGE_DAYS = 366
MAX_PERIOD_RANGE_MONTHS = 120
CERTIFICATE_NUMBER_LENGTH = 21
SERIAL_DIGITS = 8


def shanghai_date(moment: datetime) -> date:
    """The calendar day of a moment in Asia/Shanghai (naive moments are taken as already local)."""
    return moment.astimezone(SHANGHAI).date() if moment.tzinfo else moment.date()


def start_of_day(day: date) -> datetime:
    """Midnight at the start of a day in Asia/Shanghai, for half-open ranges [start, next start)."""
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def chinese_date(day: date) -> str:
    """2026-11-26 -> 2026年11月26日."""
    return f"{day.year}年{day.month}月{day.day}日"


def add_working_days(day: date, working_days: int) -> date:
    """The day ``working_days`` working days (Mon–Fri) after ``day``; holidays are not modelled."""
    if working_days < 0:
        raise ValueError("working_days must not be negative")
    current, left = day, working_days
    while left:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def treasury_date(posted_at: datetime, delay_working_days: int) -> date:
    """The day posted money is in the treasury (入库) and a certificate can be issued for it."""
    return add_working_days(shanghai_date(posted_at), delay_working_days)


def tax_authority_name(region_name: str) -> str:
    """国家税务总局青岛市税务局: the tax bureau of a region, as printed on certificates."""
    return f"国家税务总局{region_name}税务局" if region_name else "国家税务总局"


def certificate_number(region: str, issued_on: date, serial: int) -> str:
    """region (6) + yymmdd + serial (8 digits, from the database) + a Luhn check digit."""
    if serial <= 0:
        raise ValueError("serial must be positive")
    body = f"{region[:6]:0<6}{issued_on:%y%m%d}{serial % 10 ** SERIAL_DIGITS:0{SERIAL_DIGITS}d}"
    return body + luhn.calc_check_digit(body)


def looks_like_certificate_number(text: str) -> bool:
    """Shape and check digit only: a typo is caught before the database is asked."""
    return len(text) == CERTIFICATE_NUMBER_LENGTH and text.isdigit() and luhn.is_valid(text)


def date_range(start: date | None, end: date | None, today: date, field: str = "start") -> tuple[date, date]:
    """A date range of at most a year; without dates, the year up to today."""
    end = end or today
    start = start or end - timedelta(days=MAX_DATE_RANGE_DAYS - 1)
    if start > end:
        raise InvalidInput("date_range_reversed", "起始日期不能晚于终止日期", field=field)
    if (end - start).days >= MAX_DATE_RANGE_DAYS:
        raise InvalidInput("date_range_too_long", "查询日期范围不能超过一年", field=field)
    return start, end


def period_range(start: str, end: str) -> tuple[date, date]:
    """Fee-period months YYYY-MM (a year YYYY means the whole year): first day of start, last day of end."""
    try:
        first = Month.parse(start) if len(start) == 7 else Month(int(start), 1)
        last = Month.parse(end) if len(end) == 7 else Month(int(end), 12)
    except ValueError:
        raise InvalidInput("month_format", "费款所属期应为年月，如2026-01", field="period_start") from None
    if first > last:
        raise InvalidInput("period_range_reversed", "费款所属期起不能晚于止", field="period_start")
    if first.months_until(last) >= MAX_PERIOD_RANGE_MONTHS:
        raise InvalidInput("period_range_too_long", "一次最多开具10年的完税证明", field="period_start")
    return first.first_day(), last.plus(1).first_day() - timedelta(days=1)


@dataclass
class PostedPayment:
    """A posted payment (入库的缴费) with its assessment and the order that brought it."""

    payment_id: int
    e_ticket_number: str
    amount_fen: int
    posted_at: datetime
    assessment: Assessment
    order_no: str
    channel: str
    provider: str
    method: str
    payer_person_id: int | None
    category: str | None = None
    certified: bool = False  # on an original certificate already
    kind: str = "fee"  # or late_fee: the assessment's 滞纳金, posted and certified as its own line

    @property
    def is_late_fee(self) -> bool:
        return self.kind == "late_fee"

    @property
    def person_id(self) -> int | None:
        return self.assessment.person_id

    @property
    def is_refunded(self) -> bool:
        return self.assessment.state != PAID


@dataclass
class CertificateItem:
    payment_id: int
    amount_fen: int
    id: int | None = None


@dataclass
class Certificate:
    person_id: int
    requested_by_person_id: int
    region: str
    tax_authority: str
    period_start: date
    period_end: date
    total_fen: int
    issued_at: datetime
    verification_code: str
    items: list[CertificateItem] = field(default_factory=list)
    reissue_of: int | None = None
    certificate_no: str | None = None
    id: int | None = None

    @property
    def is_reissue(self) -> bool:
        return self.reissue_of is not None


@dataclass(frozen=True)
class CertificatePlan:
    """What an issue request leads to: payments to certify per region, and those still on their way."""

    ready_by_region: dict[str, list[PostedPayment]]
    pending: list[tuple[PostedPayment, date]]


def plan_certificates(payments: list[PostedPayment], today: date, delay_working_days: int) -> CertificatePlan:
    """Split posted payments into those a certificate can cover today and those not yet in the treasury."""
    live = [p for p in payments if not p.is_refunded]
    if not live:
        raise NotFound("no_posted_payments", "所选费款所属期内没有已缴纳的社保费，无法开具完税证明",
                       field="period_start")
    fresh = [p for p in live if not p.certified]
    if not fresh:
        raise Conflict("certificate_already_issued", "所选费款所属期的缴费已开具过完税证明，如需再次获取请使用补开功能",
                       field="period_start")
    ready: dict[str, list[PostedPayment]] = {}
    pending: list[tuple[PostedPayment, date]] = []
    for p in sorted(fresh, key=lambda p: (p.assessment.period_start, p.e_ticket_number)):
        available = treasury_date(p.posted_at, delay_working_days)
        if available <= today:
            ready.setdefault(p.assessment.region, []).append(p)
        else:
            pending.append((p, available))
    if not ready:
        first = min(day for _, day in pending)
        raise Conflict("not_in_treasury_yet",
                       f"费款尚未入库，完税证明须在费款入库后开具，预计{chinese_date(first)}起可以开具",
                       available_on=first.isoformat())
    return CertificatePlan(ready, pending)


def new_certificate(person_id: int, requested_by: int, region: str, region_name: str, period: tuple[date, date],
                    payments: list[PostedPayment], issued_at: datetime, verification_code: str) -> Certificate:
    """An original certificate for posted payments of one region (one tax authority)."""
    if not payments or any(p.assessment.region != region for p in payments):
        raise ValueError("a certificate covers payments of one region")
    return Certificate(person_id=person_id, requested_by_person_id=requested_by, region=region,
                       tax_authority=tax_authority_name(region_name), period_start=period[0], period_end=period[1],
                       total_fen=sum(p.amount_fen for p in payments), issued_at=issued_at,
                       verification_code=verification_code,
                       items=[CertificateItem(payment_id=p.payment_id, amount_fen=p.amount_fen) for p in payments])


def reissue(original: Certificate, payments: list[PostedPayment], requested_by: int, issued_at: datetime,
            verification_code: str) -> Certificate:
    """补开: the same payments on a new certificate, linked to the first original."""
    if original.is_reissue:
        raise ValueError("re-issue from the original certificate")
    if any(p.is_refunded for p in payments):
        raise Conflict("certificate_payment_refunded", "该完税证明所列费款已办理退费，不能补开")
    return Certificate(person_id=original.person_id, requested_by_person_id=requested_by, region=original.region,
                       tax_authority=original.tax_authority, period_start=original.period_start,
                       period_end=original.period_end, total_fen=original.total_fen, issued_at=issued_at,
                       verification_code=verification_code, reissue_of=original.id,
                       items=[CertificateItem(payment_id=i.payment_id, amount_fen=i.amount_fen)
                              for i in original.items])
