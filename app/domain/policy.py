"""Contribution policies as data: region × year × insurance × category.

The tables live in ``config/policies/*.json``; this module only gives them a shape and checks
them. Every number in a table must name its source in ``sources`` (a seed, a published
notice, or "demo value"), so nobody mistakes an invented figure for the law.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Iterable, Mapping

from app.domain.errors import InvalidInput, NotFound
from app.domain.money import contribution_fen, percent_of_fen, yuan

SCHEMES = ("base", "grade", "fixed")
PERIOD_UNITS = ("month", "year")
INSURANCE_LABELS = {"pension": "基本养老保险", "medical": "基本医疗保险", "unemployment": "失业保险",
                    "work_injury": "工伤保险", "maternity": "生育保险"}
CATEGORY_LABELS = {"flexible": "灵活就业人员", "resident": "城乡居民", "employer": "用人单位"}


@dataclass(frozen=True)
class Grade:
    """A tier (缴费档次): a fixed amount per period, or a percentage of the average wage."""

    code: str
    label: str
    amount_fen: int | None = None
    percent_of_average_wage: Decimal | None = None


@dataclass(frozen=True)
class LateFeeRule:
    """滞纳金 (社会保险法 §86: 自欠缴之日起，按日加收万分之五): a daily rate on the overdue amount.

    A period's fee is due ``due_days_after_period`` days after the period ends; each day after
    that, less ``grace_days``, costs ``daily_rate`` of the amount. Kinds in ``exempt_kinds``
    (e.g. a bureau's special assessment, whose decision fixes what is owed) pay none.
    """

    daily_rate: Decimal
    grace_days: int = 0
    due_days_after_period: int = 0
    exempt_kinds: tuple[str, ...] = ()

    def due_date(self, period_end: date) -> date:
        return period_end + timedelta(days=self.due_days_after_period)

    def days_overdue(self, due: date, paid: date) -> int:
        return max((paid - due).days - self.grace_days, 0)

    def fee_fen(self, amount_fen: int, due: date, paid: date) -> int:
        days = self.days_overdue(due, paid)
        return contribution_fen(amount_fen * days, self.daily_rate) if days > 0 else 0


@dataclass(frozen=True)
class Policy:
    region: str
    region_name: str
    year: int
    insurance: str
    category: str
    scheme: str
    period_unit: str
    collection_start: date
    collection_end: date
    back_payment_months: int = 0
    rate: Decimal | None = None
    personal_account_rate: Decimal | None = None
    base_min_fen: int | None = None
    base_max_fen: int | None = None
    average_wage_fen: int | None = None
    grades: tuple[Grade, ...] = ()
    fixed_amount_fen: int | None = None
    subsidy_fen: int | None = None
    late_fee: LateFeeRule | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.region, self.year, self.insurance, self.category)

    @property
    def insurance_label(self) -> str:
        return INSURANCE_LABELS.get(self.insurance, self.insurance)

    @property
    def title(self) -> str:
        """E.g. 灵活就业人员基本养老保险."""
        return CATEGORY_LABELS.get(self.category, "") + self.insurance_label

    def grade(self, code: str) -> Grade:
        for grade in self.grades:
            if grade.code == code:
                return grade
        raise InvalidInput("grade_unknown", "所选缴费档次不存在，请重新选择", field="grade")

    def check_base(self, base_fen: int) -> None:
        if self.scheme != "base":
            raise InvalidInput("base_not_applicable", "该险种按档次或固定标准缴费，无需选择缴费基数", field="base_fen")
        if not (self.base_min_fen <= base_fen <= self.base_max_fen):
            raise InvalidInput("base_out_of_range",
                               f"缴费基数应在{yuan(self.base_min_fen)}元至{yuan(self.base_max_fen)}元之间",
                               field="base_fen", base_min_fen=self.base_min_fen, base_max_fen=self.base_max_fen)

    def grade_base_fen(self, grade: Grade) -> int | None:
        """The monthly base a percentage grade stands for (None for fixed-amount grades)."""
        if grade.percent_of_average_wage is None:
            return None
        return percent_of_fen(self.average_wage_fen, grade.percent_of_average_wage)

    def amount_per_period(self, base_fen: int | None = None, grade_code: str | None = None) -> "Charge":
        """What one period (a month or a year) costs under this policy for a base or grade."""
        if self.scheme == "fixed":
            return Charge(self.fixed_amount_fen, None, None, None)
        if self.scheme == "base":
            if base_fen is None:
                raise InvalidInput("base_required", "请选择缴费基数", field="base_fen")
            self.check_base(base_fen)
            return self._charge_for_base(base_fen)
        if grade_code is None:
            raise InvalidInput("grade_required", "请选择缴费档次", field="grade")
        grade = self.grade(grade_code)
        if grade.amount_fen is not None:
            return Charge(grade.amount_fen, None, None, grade.code)
        return self._charge_for_base(self.grade_base_fen(grade), grade.code)

    def _charge_for_base(self, base_fen: int, grade_code: str | None = None) -> "Charge":
        return Charge(contribution_fen(base_fen, self.rate), base_fen, self.rate, grade_code)

    def periods_per_year(self) -> int:
        return 12 if self.period_unit == "month" else 1


@dataclass(frozen=True)
class Charge:
    amount_fen: int
    base_fen: int | None
    rate: Decimal | None
    grade_code: str | None


_NUMERIC_FIELDS = ("rate", "personal_account_rate", "base_min_fen", "base_max_fen", "average_wage_fen",
                   "fixed_amount_fen", "subsidy_fen", "back_payment_months", "late_fee", "grades")


def policy_from_dict(data: Mapping) -> Policy:
    """Build and check one policy from its JSON form; every number present must cite a source."""
    sources = dict(data.get("sources", {}))
    missing = [name for name in _NUMERIC_FIELDS if data.get(name) not in (None, [], 0) and name not in sources]
    if missing:
        raise ValueError(f"policy {data.get('region')}/{data.get('year')}/{data.get('insurance')}: "
                         f"no source for {', '.join(missing)}")
    dec = lambda v: None if v is None else Decimal(str(v))  # noqa: E731 - tiny local converter
    grades = tuple(Grade(code=str(g["code"]), label=g["label"], amount_fen=g.get("amount_fen"),
                         percent_of_average_wage=dec(g.get("percent_of_average_wage")))
                   for g in data.get("grades", []))
    late = data.get("late_fee")
    policy = Policy(
        region=str(data["region"]), region_name=data["region_name"], year=int(data["year"]),
        insurance=data["insurance"], category=data["category"], scheme=data["scheme"],
        period_unit=data["period_unit"],
        collection_start=date.fromisoformat(data["collection_start"]),
        collection_end=date.fromisoformat(data["collection_end"]),
        back_payment_months=int(data.get("back_payment_months", 0)),
        rate=dec(data.get("rate")), personal_account_rate=dec(data.get("personal_account_rate")),
        base_min_fen=data.get("base_min_fen"), base_max_fen=data.get("base_max_fen"),
        average_wage_fen=data.get("average_wage_fen"), grades=grades,
        fixed_amount_fen=data.get("fixed_amount_fen"), subsidy_fen=data.get("subsidy_fen"),
        late_fee=LateFeeRule(dec(late["daily_rate"]), int(late.get("grace_days", 0)),
                             int(late.get("due_days_after_period", 0)),
                             tuple(late.get("exempt_kinds", ()))) if late else None,
        sources=sources,
    )
    _check(policy)
    return policy


def _check(p: Policy) -> None:
    where = f"policy {p.key}"
    if p.scheme not in SCHEMES or p.period_unit not in PERIOD_UNITS:
        raise ValueError(f"{where}: unknown scheme or period unit")
    if p.scheme == "base" and (p.rate is None or p.base_min_fen is None or p.base_max_fen is None
                               or p.base_min_fen > p.base_max_fen):
        raise ValueError(f"{where}: a base scheme needs rate and a base range")
    if p.scheme == "grade" and not p.grades:
        raise ValueError(f"{where}: a grade scheme needs grades")
    if any(g.percent_of_average_wage is not None for g in p.grades) and (p.average_wage_fen is None or p.rate is None):
        raise ValueError(f"{where}: percentage grades need the average wage and a rate")
    if p.scheme == "fixed" and p.fixed_amount_fen is None:
        raise ValueError(f"{where}: a fixed scheme needs fixed_amount_fen")
    if p.collection_start > p.collection_end:
        raise ValueError(f"{where}: collection window ends before it starts")


class PolicyBook:
    """All loaded policies, looked up by region, year, insurance and category."""

    def __init__(self, policies: Iterable[Policy]):
        self._by_key: dict[tuple[str, int, str, str], Policy] = {}
        for policy in policies:
            if policy.key in self._by_key:
                raise ValueError(f"duplicate policy {policy.key}")
            self._by_key[policy.key] = policy

    def find(self, region: str, year: int, insurance: str, category: str) -> Policy | None:
        return self._by_key.get((region, year, insurance, category))

    def get(self, region: str, year: int, insurance: str, category: str) -> Policy:
        policy = self.find(region, year, insurance, category)
        if policy is None:
            raise NotFound("policy_not_found", f"{year}年度该地区该险种的缴费标准尚未公布", field="period")
        return policy

    def years(self, region: str, insurance: str, category: str) -> list[int]:
        return sorted(k[1] for k in self._by_key if (k[0], k[2], k[3]) == (region, insurance, category))

    def region_name(self, region: str) -> str:
        return next((p.region_name for p in self._by_key.values() if p.region == region), "")

    def all(self) -> list[Policy]:
        return sorted(self._by_key.values(), key=lambda p: p.key)

    def missing_ahead(self, today: date, days: int) -> list["MissingPolicy"]:
        """The tables whose collection opens between today and ``days`` ahead but are not loaded.

        Each live line (region × insurance × category) is expected to go on every year, its
        collection window shifted a year at a time from its latest table; a line whose latest
        window closed more than a year ago counts as retired. Reported ahead, so that a missing
        year is found by an operator (CLI, readiness), never by a payer.
        """
        horizon = today + timedelta(days=days)
        latest: dict[tuple[str, str, str], Policy] = {}
        for policy in self._by_key.values():
            line = (policy.region, policy.insurance, policy.category)
            if line not in latest or policy.year > latest[line].year:
                latest[line] = policy
        missing = []
        for policy in sorted(latest.values(), key=lambda p: p.key):
            if policy.collection_end < today - timedelta(days=366):
                continue
            year = policy.year + 1
            while (opens := _shift_years(policy.collection_start, year - policy.year)) <= horizon:
                missing.append(MissingPolicy(policy.region, policy.region_name, year, policy.insurance,
                                             policy.category, opens))
                year += 1
        return missing


@dataclass(frozen=True)
class MissingPolicy:
    """A policy table expected (its collection opens on ``opens``) but not loaded."""

    region: str
    region_name: str
    year: int
    insurance: str
    category: str
    opens: date

    def describe(self) -> str:
        return (f"{self.region_name}({self.region}) {self.year}年度 {self.insurance}/{self.category} "
                f"缴费标准缺失，应于{self.opens.isoformat()}开始征收")


def _shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)
