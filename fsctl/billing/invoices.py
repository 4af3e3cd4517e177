"""`fsctl invoices --month YYYY-MM`: close the month, PDFs, e-mail, CSV and a summary.

Closing is idempotent (fsctl.billing.close); PDFs are rendered from the stored statements (same bytes
every time), and a statement is e-mailed once (statements.emailed_at), so running it again after a
mail failure sends only what is missing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from fsctl import models
from fsctl.billing import mail
from fsctl.billing.close import close_month, preview
from fsctl.billing.pdf import render_invoice
from fsctl.billing.prices import load_prices
from fsctl.billing.settings import BillingSettings, find_font
from fsctl.billing.statement import Month
from fsctl.csv_safe import SafeDictWriter

log = logging.getLogger(__name__)

CSV_FIELDS = (
    "month",
    "invoice_number",
    "domain",
    "tenant",
    "code",
    "description",
    "quantity",
    "unit_yen",
    "amount_yen",
    "note",
)


@dataclass
class InvoiceRun:
    month: str
    statements: list[dict]
    closed: bool
    pdfs: list[Path] = field(default_factory=list)
    csv_path: Path | None = None
    emailed: list[str] = field(default_factory=list)
    no_address: list[str] = field(default_factory=list)
    # (domain, reason) of statements whose PDF could not be made: reported, never e-mailed, retried next run.
    failed: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        subtotal = sum(s["subtotal_yen"] for s in self.statements)
        tax = sum(s["tax_yen"] for s in self.statements)
        total = sum(s["total_yen"] for s in self.statements)
        state = "closed" if self.closed else "preview (open, nothing closed)"
        lines = [
            f"{self.month} {state}: {len(self.statements)} statements, subtotal ¥{subtotal:,}, "
            f"tax ¥{tax:,}, total ¥{total:,}",
        ]
        if self.closed:
            lines.append(
                f"PDFs: {len(self.pdfs)}; e-mailed now: {len(self.emailed)}; "
                f"no billing address: {', '.join(self.no_address) or 'none'}"
            )
            if self.csv_path:
                lines.append(f"CSV: {self.csv_path}")
            for domain, reason in self.failed:
                lines.append(
                    f"FAILED {domain}: {reason} (run again once fixed: what is missing is done then)"
                )
        return "\n".join(lines)


def write_csv(path: Path, statements: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = SafeDictWriter(handle, CSV_FIELDS)
        writer.writeheader()
        for doc in statements:
            base = {
                "month": doc["month"],
                "invoice_number": doc["invoice_number"],
                "domain": doc["tenant"]["domain"],
                "tenant": doc["tenant"]["name"],
            }
            for line in doc["lines"]:
                writer.writerow({**base, **{k: line.get(k, "") for k in CSV_FIELDS if k in line}})
            for code, amount in (
                ("subtotal", doc["subtotal_yen"]),
                ("tax", doc["tax_yen"]),
                ("total", doc["total_yen"]),
            ):
                writer.writerow({**base, "code": code, "amount_yen": amount})


def _addresses(session: Session, tenant_ids: list[int]) -> dict[int, str]:
    """The billing address per tenant: its billing account's, else the sign-up contact's (panel profile)."""
    result = dict(
        session.execute(
            select(models.TenantProfile.tenant_id, models.TenantProfile.email).where(
                models.TenantProfile.tenant_id.in_(tenant_ids)
            )
        ).all()
    )
    rows = session.execute(
        select(models.BillingAccount.tenant_id, models.BillingAccount.email).where(
            models.BillingAccount.tenant_id.in_(tenant_ids), models.BillingAccount.email.is_not(None)
        )
    )
    result.update(dict(rows.all()))
    return {tenant_id: email for tenant_id, email in result.items() if email}


def run_invoices(
    engine: Engine,
    factory: sessionmaker[Session],
    month: Month,
    settings: BillingSettings,
    *,
    preview_only: bool = False,
    send_email: bool = True,
    today: dt.date | None = None,
) -> InvoiceRun:
    """Preview, or close and issue, one month's statements."""
    prices = load_prices(settings.prices_file)
    if preview_only:
        docs = preview(engine, factory, month, prices, settings, today or dt.date.today())
        return InvoiceRun(str(month), docs, closed=False)
    docs = close_month(engine, factory, month, prices, settings, today)
    run = InvoiceRun(str(month), docs, closed=True)
    folder = settings.out_dir / str(month)
    folder.mkdir(parents=True, exist_ok=True)
    font = find_font(settings)
    pdfs: dict[str, bytes] = {}
    for doc in docs:
        # One statement that cannot be rendered must not stop every later tenant's PDF, CSV and mail.
        try:
            pdf = render_invoice(doc, font)
        except Exception as exc:
            log.exception(
                "invoice %s (%s) could not be rendered", doc["invoice_number"], doc["tenant"]["domain"]
            )
            run.failed.append((doc["tenant"]["domain"], f"{type(exc).__name__}: {exc}"))
            continue
        path = folder / f"{doc['invoice_number']}.pdf"
        path.write_bytes(pdf)
        pdfs[doc["invoice_number"]] = pdf
        run.pdfs.append(path)
    run.csv_path = folder / f"statements-{month}.csv"
    write_csv(run.csv_path, docs)
    (folder / "summary.txt").write_text(run.summary() + "\n", encoding="utf-8")
    if send_email:
        _email(factory, docs, pdfs, settings, run)
        (folder / "summary.txt").write_text(run.summary() + "\n", encoding="utf-8")
    return run


def _email(
    factory: sessionmaker[Session],
    docs: list[dict],
    pdfs: dict[str, bytes],
    settings: BillingSettings,
    run: InvoiceRun,
) -> None:
    pending = [doc for doc in docs if not doc.get("emailed_at") and doc["invoice_number"] in pdfs]
    if not pending:
        return
    with factory() as session:
        addresses = _addresses(session, [doc["tenant"]["id"] for doc in pending])
    messages, sent_docs = [], []
    for doc in pending:
        to = addresses.get(doc["tenant"]["id"])
        if not to:
            run.no_address.append(doc["tenant"]["domain"])
            continue
        messages.append(mail.invoice_message(doc, pdfs[doc["invoice_number"]], to, settings))
        sent_docs.append(doc)
    refused = dict(mail.send(messages, settings))
    for index, reason in refused.items():
        doc = sent_docs[index]
        log.error("invoice %s to %s refused: %s", doc["invoice_number"], doc["tenant"]["domain"], reason)
        run.failed.append((doc["tenant"]["domain"], f"e-mail refused: {reason}"))
    sent_numbers = [doc["invoice_number"] for i, doc in enumerate(sent_docs) if i not in refused]
    with factory() as session, session.begin():
        session.execute(
            update(models.Statement)
            .where(models.Statement.invoice_number.in_(sent_numbers))
            .values(emailed_at=dt.datetime.now(dt.UTC))
            .execution_options(synchronize_session=False)
        )
    run.emailed = sent_numbers
    log.info("e-mailed %s invoices for %s", len(sent_numbers), run.month)
