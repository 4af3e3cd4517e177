"""The overview's charts as inline SVG made on the server: no script (the panel's CSP allows none
inline) and nothing to download. Each chart has a title, a short description for screen readers and
the same figures as a table beside it (webpanel/templates/charts.html), and scales to the page's
width (viewBox), so it reads at 390 px as at 1280 px. Colours come from panel.css classes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import format_date, gettext
from markupsafe import Markup

from fsctl.cdr.activity import Day
from webpanel.i18n import yen

WIDTH, HEIGHT = 600, 180
TOP, BOTTOM, LEFT = 14, 24, 44


@dataclass(frozen=True)
class Chart:
    title: str
    description: str
    svg: Markup
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]


def _scale(peak: int) -> int:
    """A round top for the axis: 1, 2, 5 x 10^n at or above the highest bar."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if peak <= step * factor:
                return step * factor
        step *= 10


def _svg(
    title: str,
    description: str,
    bars: list[list[tuple[int, str, str]]],
    labels: list[str],
    top: int,
    unit: str,
) -> Markup:
    """Stacked bars: for each slot a list of (value, css class, tooltip) from the bottom up."""
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT) / max(len(bars), 1)
    parts = [
        Markup('<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{t}. {d}">').format(
            w=WIDTH, h=HEIGHT, t=title, d=description
        ),
        Markup('<line class="axis" x1="{x}" y1="{y}" x2="{w}" y2="{y}"/>').format(
            x=LEFT, y=HEIGHT - BOTTOM, w=WIDTH
        ),
        Markup('<text class="tick" x="{x}" y="{y}" text-anchor="end">{v}{u}</text>').format(
            x=LEFT - 4, y=TOP + 4, v=f"{top:,}", u=unit
        ),
        Markup('<text class="tick" x="{x}" y="{y}" text-anchor="end">0</text>').format(
            x=LEFT - 4, y=HEIGHT - BOTTOM
        ),
    ]
    for index, stack in enumerate(bars):
        x = LEFT + index * slot + slot * 0.15
        base = HEIGHT - BOTTOM
        for value, css, tip in stack:
            if value <= 0:
                continue
            height = plot_h * value / top
            base -= height
            parts.append(
                Markup(
                    '<rect class="{c}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}"><title>{t}</title></rect>'
                ).format(c=css, x=x, y=base, w=slot * 0.7, h=height, t=tip)
            )
        if labels[index]:
            # The last label ends at the right edge instead of running past it.
            last = index == len(bars) - 1
            parts.append(
                Markup('<text class="tick" x="{x:.1f}" y="{y}" text-anchor="{a}">{t}</text>').format(
                    x=WIDTH if last else x + slot * 0.35,
                    y=HEIGHT - 4,
                    a="end" if last else "middle",
                    t=labels[index],
                )
            )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def calls_chart(days: list[Day]) -> Chart:
    title = gettext("Calls per day")
    total = sum(d.total for d in days)
    missed = sum(d.missed for d in days)
    description = gettext(
        "%(total)s calls in the last %(days)s days, %(missed)s of them received and not answered.",
        total=f"{total:,}", days=len(days), missed=f"{missed:,}",
    )  # fmt: skip
    top = _scale(max((d.total for d in days), default=0) or 1)
    bars, labels = [], []
    for index, d in enumerate(days):
        day = f"{d.day.month}/{d.day.day}"
        bars.append(
            [
                (d.outgoing, "bar-out", f"{day} {gettext('Outgoing')}: {d.outgoing}"),
                (d.answered, "bar-in", f"{day} {gettext('Received and answered')}: {d.answered}"),
                (d.missed, "bar-missed", f"{day} {gettext('Not answered')}: {d.missed}"),
            ]
        )
        # A label every week (and the last day), so 30 labels do not collide at 390 px.
        labels.append(day if index % 7 == 0 or index == len(days) - 1 else "")
    return Chart(
        title=title,
        description=description,
        svg=_svg(title, description, bars, labels, top, ""),
        headers=(
            gettext("Day"),
            gettext("Outgoing"),
            gettext("Received and answered"),
            gettext("Not answered"),
        ),
        rows=[(f"{d.day.month}/{d.day.day}", str(d.outgoing), str(d.answered), str(d.missed)) for d in days],
    )


def spend_chart(months: list[dict]) -> Chart:
    title = gettext("Spend per month")
    current = months[-1]["total_yen"] if months else 0
    description = gettext(
        "Invoices of the last months (tax included) and this month so far: %(amount)s.",
        amount=yen(current),
    )
    top = _scale(max((m["total_yen"] for m in months), default=0) or 1)
    bars, labels, rows = [], [], []
    for m in months:
        month = format_date(dt.date(int(m["month"][:4]), int(m["month"][5:]), 1), "MMM")
        so_far = "" if m["closed"] else " " + gettext("(so far)")
        css = "bar-spend" if m["closed"] else "bar-spend-open"
        bars.append([(m["total_yen"], css, f"{month}{so_far}: {yen(m['total_yen'])}")])
        labels.append(month)
        rows.append((f"{m['month']}{so_far}", yen(m["total_yen"])))
    return Chart(
        title=title,
        description=description,
        svg=_svg(title, description, bars, labels, top, ""),
        headers=(gettext("Month"), gettext("Amount (tax included)")),
        rows=rows,
    )


__all__ = ["Chart", "calls_chart", "spend_chart"]
