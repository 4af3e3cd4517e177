"""Monthly statements: monthly fees from subscription periods, call charges, one-off fees, tax.

Computed for many tenants at once with a handful of grouped queries (1,000 tenants in one pass).
Money is integer yen throughout; consumption tax is computed once per tax rate on the statement's
total at that rate and rounded down (floor), as the qualified-invoice rules allow (one rounding per
rate per invoice).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from fsctl import models
from fsctl.billing.prices import PriceList, PricePeriod
from fsctl.billing.rating import BILLING_TZ
from fsctl.billing.subscriptions import periods_in

CALL_CLASS_NAMES = {
    "fixed": "通話料 固定電話",
    "mobile": "通話料 携帯電話",
    "ip": "通話料 IP電話 (050)",
    "international": "通話料 国際",
    "service": "通話料 特番",
}
ONE_OFF_NAMES = {
    "porting_toll_free": "フリーダイヤル番号ポータビリティ手数料",
    "cancel_number": "番号解約手数料 (03/06/050等)",
    "cancel_toll_free": "番号解約手数料 (0120/0800)",
    "gateway_setup": "ゲートウェイ 初期費用",
}


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """'2026-11' -> Month; ValueError otherwise."""
        year, _, month = text.partition("-")
        if len(year) != 4 or len(month) != 2 or not (year + month).isdigit() or not 1 <= int(month) <= 12:
            raise ValueError(f"not a month (YYYY-MM): {text!r}")
        return cls(int(year), int(month))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def utc_start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(), BILLING_TZ).astimezone(dt.UTC)

    def utc_end(self) -> dt.datetime:
        return self.next().utc_start()


def _overlap(a: tuple[dt.date, dt.date], b: tuple[dt.date, dt.date]) -> tuple[dt.date, dt.date] | None:
    start, end = max(a[0], b[0]), min(a[1], b[1])
    return (start, end) if start <= end else None


def held_items(rows, month: Month) -> dict[int, dict[str, set[str]]]:
    """tenant -> item -> subjects billed for the month (the part-month rule, see subscriptions)."""
    window = (month.first, month.last)
    service: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    others = []
    for row in rows:
        span = _overlap((row.started_on, row.ended_on or month.last), window)
        if span is None:
            continue
        if row.item == "service":
            service[row.tenant_id].append(span)
        else:
            others.append((row.tenant_id, row.item, row.subject, span))
    held: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for tenant_id, item, subject, span in others:
        if any(_overlap(span, active) for active in service[tenant_id]):
            held[tenant_id][item].add(subject)
    for tenant_id in service:
        held[tenant_id]["service"].add("")
    return held


def _line(code: str, description: str, quantity: int, unit_yen: int, amount_yen: int, note: str = "") -> dict:
    return {
        "code": code,
        "description": description,
        "quantity": quantity,
        "unit_yen": unit_yen,
        "amount_yen": amount_yen,
        "note": note,
    }


# Options the operator may price (0 yen by default): a line appears only once they cost something.
FREE_UNTIL_PRICED = ("option_conference_room", "option_phonebook", "option_fax_number", "option_call_queue")


def monthly_lines(items: dict[str, set[str]], prices: PricePeriod) -> list[dict]:
    """Base fee (capped), numbers, options, paper invoice."""
    m = prices.monthly
    lines = []
    users = len(items.get("user", ()))
    if users:
        billed = min(users, m["base_fee_max_users"])
        note = f"全{users}ユーザー、{m['base_fee_max_users'] + 1}ユーザー目以降無料" if users > billed else ""
        lines.append(
            _line(
                "base_fee", "基本料金", billed, m["base_fee_per_user"], billed * m["base_fee_per_user"], note
            )
        )
    for item, code, text in (
        ("number_geographic", "number_geographic", "電話番号 (市外局番)"),
        ("number_ip", "number_ip", "電話番号 (050)"),
        ("number_toll_free", "number_toll_free", "電話番号 (0120/0800)"),
        ("recording", "option_recording", "オプション 通話録音 (ユーザー)"),
        ("ivr", "option_ivr", "オプション IVR (番号)"),
        ("paper_invoice", "paper_invoice", "紙の請求書 郵送"),
        # caller screening (fsctl.screening.billing)
        ("anonymous_rejection", "option_anonymous_rejection", "オプション 非通知拒否 (番号・ユーザー)"),
        ("blocklist", "option_blocklist", "オプション 着信拒否リスト"),
        # customer gateways by channel plan
        ("gateway_4ch", "gateway_4ch", "ゲートウェイ 4ch"),
        ("gateway_8ch", "gateway_8ch", "ゲートウェイ 8ch"),
        ("gateway_16ch", "gateway_16ch", "ゲートウェイ 16ch"),
        ("gateway_32ch", "gateway_32ch", "ゲートウェイ 32ch"),
        ("conference_room", "option_conference_room", "オプション 会議室 (部屋)"),
        ("phonebook", "option_phonebook", "オプション 共有電話帳"),
        ("fax_number", "option_fax_number", "オプション FAX受信 (番号)"),
        ("call_queue", "option_call_queue", "オプション 着信キュー (キュー)"),
    ):
        count = len(items.get(item, ()))
        if count and (m[code] or code not in FREE_UNTIL_PRICED):
            lines.append(_line(code, text, count, m[code], count * m[code]))
    return lines


@dataclass
class CallSums:
    calls: int = 0
    seconds: int = 0
    yen: int = 0


def call_sums(session: Session, month: Month, closed: bool, tenant_ids: list[int] | None = None):
    """tenant -> (class, late) -> sums; closed: the calls billed in `month`, else the unbilled ones up to it."""
    cdr = models.CallRecord
    late = cdr.started_at < month.utc_start()
    where = [cdr.tenant_id.is_not(None), cdr.charge_yen > 0]
    if closed:
        where.append(cdr.billed_month == str(month))
    else:
        where += [cdr.billed_month.is_(None), cdr.started_at < month.utc_end()]
    if tenant_ids is not None:
        where.append(cdr.tenant_id.in_(tenant_ids))
    query = (
        select(
            cdr.tenant_id,
            cdr.call_class,
            late.label("late"),
            func.count(),
            func.sum(cdr.billsec),
            func.sum(cdr.charge_yen),
        )
        .where(and_(*where))
        .group_by(cdr.tenant_id, cdr.call_class, late)
    )
    sums: dict[int, dict[tuple[str, bool], CallSums]] = defaultdict(dict)
    for tenant_id, call_class, is_late, count, seconds, yen in session.execute(query):
        sums[tenant_id][(call_class, bool(is_late))] = CallSums(int(count), int(seconds or 0), int(yen or 0))
    return sums


def call_lines(sums: dict[tuple[str, bool], CallSums]) -> list[dict]:
    lines = []
    for (call_class, late), s in sorted(sums.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        name = CALL_CLASS_NAMES.get(call_class, f"通話料 {call_class}")
        note = f"{s.calls}通話 {s.seconds}秒"
        if late:
            # A call of an already closed month whose record arrived after closing (shown as such).
            name += " (前月以前の通話・遅延計上)"
        lines.append(_line(f"calls_{call_class}" + ("_late" if late else ""), name, s.calls, 0, s.yen, note))
    return lines


def one_off_rows(session: Session, month: Month, closed: bool, tenant_ids: list[int] | None = None):
    o = models.OneOffCharge
    where = (
        [o.billed_month == str(month)] if closed else [o.billed_month.is_(None), o.occurred_on <= month.last]
    )
    if tenant_ids is not None:
        where.append(o.tenant_id.in_(tenant_ids))
    rows: dict[int, list] = defaultdict(list)
    for row in session.execute(
        select(o.tenant_id, o.kind, o.subject, o.occurred_on, o.amount_yen)
        .where(*where)
        .order_by(o.occurred_on, o.id)
    ):
        rows[row.tenant_id].append(row)
    return rows


def totals(lines: list[dict], tax_rate_percent: int) -> dict:
    """Subtotal, tax per rate (floor), total."""
    subtotal = sum(line["amount_yen"] for line in lines)
    tax = subtotal * tax_rate_percent // 100
    return {
        "subtotal_yen": subtotal,
        "tax": [{"rate_percent": tax_rate_percent, "taxable_yen": subtotal, "tax_yen": tax}],
        "tax_yen": tax,
        "total_yen": subtotal + tax,
        "tax_rounding": "floor",
    }


def compute_statements(
    session: Session,
    month: Month,
    prices: PriceList,
    *,
    closed: bool = False,
    tenant_ids: list[int] | None = None,
) -> dict[int, dict]:
    """tenant id -> statement document (without issuer/numbering) for every tenant with something to bill."""
    period = prices.at(month.first)
    held = held_items(periods_in(session, month.first, month.last, tenant_ids), month)
    calls = call_sums(session, month, closed, tenant_ids)
    one_offs = one_off_rows(session, month, closed, tenant_ids)
    ids = set(held) | set(calls) | set(one_offs)
    tenants = (
        {
            t.id: t
            for t in session.execute(
                select(models.Tenant.id, models.Tenant.domain, models.Tenant.name).where(
                    models.Tenant.id.in_(ids)
                )
            )
        }
        if ids
        else {}
    )
    result = {}
    for tenant_id in sorted(ids):
        if tenant_id not in tenants:
            continue
        lines = monthly_lines(held.get(tenant_id, {}), period)
        lines += call_lines(calls.get(tenant_id, {}))
        for row in one_offs.get(tenant_id, []):
            lines.append(
                _line(
                    row.kind,
                    ONE_OFF_NAMES.get(row.kind, row.kind),
                    1,
                    row.amount_yen,
                    row.amount_yen,
                    f"{row.subject} {row.occurred_on.isoformat()}",
                )
            )
        tenant = tenants[tenant_id]
        result[tenant_id] = {
            "tenant": {"id": tenant_id, "domain": tenant.domain, "name": tenant.name},
            "month": str(month),
            "period": {"from": month.first.isoformat(), "to": month.last.isoformat()},
            "lines": lines,
            **totals(lines, period.tax_rate_percent),
        }
    return result
