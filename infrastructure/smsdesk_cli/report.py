"""``smsdesk report``: the analytics of a period, as a terminal table, JSON, CSV or an HTML page.

The figures come from the agent API (GET /metrics, GET /metrics.csv); this module only shows
them. The HTML page draws its charts with matplotlib as inline SVG, so it opens offline (no
script, no CDN). Definitions: docs/metrics.md.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from smsdesk_cli.http import Stack, problem

if TYPE_CHECKING:
    from matplotlib.axes import Axes

SUMMARY_KEYS = (
    "from",
    "to",
    "complaints",
    "by_category",
    "by_weekday_hour",
    "first_responses",
    "first_response_minutes",
    "first_response_minutes_business",
    "sla_met_share",
    "sla_met",
    "sla_missed",
    "sla_breaches",
    "resolutions",
    "resolution_minutes",
    "resolution_minutes_business",
    "resolved_share",
    "reopened",
    "reopen_rate",
    "repeat_customers",
    "csat",
    "escalations",
    "opt_outs",
    "possible_opt_outs",
    "delivery",
)
_SINCE = re.compile(r"^(?P<n>\d{1,3})(?P<unit>[dw])$")


def period_query(since: str | None, first: str | None, last: str | None, today: date) -> dict[str, str]:
    """The API's from/to for ``--since 30d`` (or 4w; ending today) or ``--from D --to D``."""
    if since:
        if first or last:
            raise ValueError("give --since or --from/--to, not both")
        match = _SINCE.match(since)
        if not match:
            raise ValueError("--since is days or weeks, like 30d or 4w")
        days = int(match["n"]) * (7 if match["unit"] == "w" else 1)
        if days < 1:
            raise ValueError("--since must be at least 1d")
        return {"from": (today - timedelta(days=days - 1)).isoformat(), "to": today.isoformat()}
    query = {}
    if first:
        query["from"] = first
    if last:
        query["to"] = last
    return query


def run(
    stack: Stack,
    *,
    since: str | None,
    first: str | None,
    last: str | None,
    group_by: str,
    as_json: bool,
    csv_file: str | None,
    html_file: str | None,
    out: TextIO,
    err: TextIO,
) -> int:
    try:
        query = period_query(since, first, last, _today(stack))
    except ValueError as error:
        print(f"smsdesk: {error}", file=err)
        return 2
    query["group_by"] = group_by
    answer = stack.agent("GET", "/metrics", query=query)
    if not answer.ok:
        print(f"smsdesk: {problem(answer)}", file=err)
        return 1
    report = answer.body
    if csv_file:
        csv_answer = stack.agent("GET", "/metrics.csv", query=query)
        if not csv_answer.ok:
            print(f"smsdesk: {problem(csv_answer)}", file=err)
            return 1
        Path(csv_file).write_text(csv_answer.body)
    if html_file:
        Path(html_file).write_text(html_page(report))
    if as_json:
        print(json.dumps({k: report[k] for k in SUMMARY_KEYS}, indent=2, ensure_ascii=False), file=out)
    else:
        print(table(report), file=out)
        for label, name in (("CSV", csv_file), ("HTML", html_file)):
            if name:
                print(f"\n{label} written to {name}", file=out)
    return 0


def _today(stack: Stack) -> date:
    """Today as the stack sees it (the local clock travels), in UTC."""
    if stack.is_local:
        return date.fromisoformat(stack.local_info()["clock"][:10])
    return date.today()


# ---------------------------------------------------------------------- the terminal table


def _minutes(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 120:
        return f"{value:g} min"
    if value < 48 * 60:
        return f"{value / 60:.1f} h"
    return f"{value / 1440:.1f} d"


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}%"


def _counts(mapping: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in mapping.items()) or "-"


def summary_rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(figure, value, detail) rows: the terminal table's and the HTML page's."""
    frt, frt_b = r["first_response_minutes"], r["first_response_minutes_business"]
    res, res_b = r["resolution_minutes"], r["resolution_minutes_business"]
    csat, delivery, opt_outs, possible = r["csat"], r["delivery"], r["opt_outs"], r["possible_opt_outs"]
    rows = [
        ("complaints", str(r["complaints"]), _counts(r["by_category"])),
        (
            "first response (median / p90)",
            f"{_minutes(frt['median'])} / {_minutes(frt['p90'])}",
            f"business time {_minutes(frt_b['median'])} / {_minutes(frt_b['p90'])}; {r['first_responses']} replied",
        ),
        (
            "reply-by promise met",
            _percent(r["sla_met_share"]),
            f"{r['sla_met']} met, {r['sla_missed']} late; {r['sla_breaches']} breach alerts",
        ),
        (
            "resolution (median / p90)",
            f"{_minutes(res['median'])} / {_minutes(res['p90'])}",
            f"business time {_minutes(res_b['median'])} / {_minutes(res_b['p90'])}; {r['resolutions']} resolved",
        ),
        ("resolved (of opened)", _percent(r["resolved_share"]), ""),
        ("reopened", str(r["reopened"]), f"reopen rate {_percent(r['reopen_rate'])}"),
        ("repeat customers", str(r["repeat_customers"]), "2+ complaints in the period"),
        (
            "CSAT average",
            "-" if csat["average"] is None else f"{csat['average']:.2f}",
            f"{csat['responses']} of {csat['surveys_sent']} surveys answered; "
            f"satisfied (4-5) {_percent(csat['satisfied_share'])}; "
            + " ".join(f"{s}:{n}" for s, n in csat["distribution"].items()),
        ),
        ("escalations", str(sum(r["escalations"].values())), _counts(r["escalations"])),
        ("opt-outs", str(opt_outs["total"]), _counts(opt_outs["by_reason"])),
        (
            "possible opt-outs waiting",
            str(possible["waiting"]),
            f"{possible['raised']} raised; agents confirmed {possible['confirmed']}, cleared {possible['cleared']}; "
            f"{possible['by_customer']} decided by the customer",
        ),
        (
            "texts sent",
            str(delivery["sent"]),
            f"{delivery['delivered']} delivered, {delivery['failed']} failed, {delivery['held']} held, "
            f"{delivery['segments']} segments",
        ),
    ]
    return rows


def table(r: dict[str, Any]) -> str:
    rows = summary_rows(r)
    width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    lines = [f"smsdesk report {r['from']} to {r['to']}", ""]
    lines += [f"{name:<{width}}  {value:>{value_width}}  {note}".rstrip() for name, value, note in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------- the HTML page


def charts(r: dict[str, Any]) -> list[tuple[str, str]]:
    """(title, inline SVG) of every chart of the report."""
    return [(title, _svg(figure)) for title, figure in figures(r)]


def figures(r: dict[str, Any]) -> list[tuple[str, Any]]:
    """(title, matplotlib Figure) of every chart of the report."""
    from matplotlib.figure import Figure

    series = r["series"]
    labels = [row["from"][5:] if row["from"] == row["to"] else f"{row['from'][5:]}..{row['to'][5:]}" for row in series]
    found = []

    def chart(title: str, draw: Callable[[Axes], None]) -> None:
        figure = Figure(figsize=(7, 3.2), dpi=100, layout="constrained")
        axes = figure.add_subplot()
        draw(axes)
        axes.set_title(title, fontsize=11, loc="left")
        axes.spines[["top", "right"]].set_visible(False)
        found.append((title, figure))

    def volume(ax: Axes) -> None:
        bottom = [0] * len(series)
        for category in r["by_category"]:  # stacked, largest category first
            heights = [row["by_category"].get(category, 0) for row in series]
            ax.bar(range(len(series)), heights, bottom=bottom, label=category)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        _label_x(ax, labels)
        ax.set_ylabel("complaints")
        if r["by_category"]:
            ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))

    def categories(ax: Axes) -> None:
        items = list(r["by_category"].items())
        ax.barh([k for k, _ in items][::-1], [v for _, v in items][::-1], color="#3b6ea8")
        ax.set_xlabel("complaints")

    def distribution(name: str) -> Callable[[Axes], None]:
        def draw(ax: Axes) -> None:
            histogram = r["histograms"][name]
            ax.bar(range(len(histogram)), list(histogram.values()), color="#5a9e6f")
            _label_x(ax, [_minutes(float(k)) for k in histogram])
            ax.set_xlabel("minutes, calendar time (bucket upper bound)")
            ax.set_ylabel("conversations")

        return draw

    def csat_trend(ax: Axes) -> None:
        points = [(i, row["csat_average"]) for i, row in enumerate(series) if row["csat_average"] is not None]
        ax.plot([i for i, _ in points], [v for _, v in points], marker="o", color="#c0713a")
        ax.set_ylim(1, 5)
        _label_x(ax, labels)
        ax.set_ylabel("average score (1-5)")

    def opt_outs(ax: Axes) -> None:
        items = list(r["opt_outs"]["by_reason"].items())
        ax.barh([k for k, _ in items][::-1], [v for _, v in items][::-1], color="#a84b3b")
        ax.set_xlabel("opt-outs")

    def heatmap(ax: Axes) -> None:
        grid = r["by_weekday_hour"]
        image = ax.imshow([grid[day] for day in grid], aspect="auto", cmap="Blues")
        ax.set_yticks(range(len(grid)), list(grid))
        ax.set_xticks(range(0, 24, 3), [f"{h:02d}" for h in range(0, 24, 3)])
        ax.set_xlabel("hour of day (business time zone)")
        ax.figure.colorbar(image, ax=ax, label="complaints")

    chart("Complaints by " + r.get("group_by", "day") + " and category", volume)
    chart("Complaints by category", categories)
    chart("Complaints by weekday and hour", heatmap)
    chart("First response time", distribution("first_response"))
    chart("Resolution time", distribution("resolution"))
    chart("Satisfaction (CSAT) trend", csat_trend)
    chart("Opt-outs by reason", opt_outs)
    return found


def _label_x(ax: Axes, labels: list[str]) -> None:
    step = max(1, len(labels) // 12)
    ax.set_xticks(
        range(0, len(labels), step),
        labels[::step],
        rotation=45 if len(labels) > 6 else 0,
        ha="right" if len(labels) > 6 else "center",
        fontsize=8,
    )


def _svg(figure: Any) -> str:
    import matplotlib as mpl

    buffer = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "smsdesk"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.DOTALL)  # RDF boilerplate
    return text[text.index("<svg") :]  # no XML declaration or DOCTYPE inside HTML


def html_page(r: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td><td>{html.escape(note)}</td></tr>"
        for name, value, note in summary_rows(r)
    )
    figures = "".join(
        f"<figure><figcaption>{html.escape(title)}</figcaption>{svg}</figure>" for title, svg in charts(r)
    )
    title = f"smsdesk report {r['from']} to {r['to']}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}}
table{{border-collapse:collapse}}th,td{{text-align:left;padding:.2rem .8rem;border-bottom:1px solid #ddd}}
figure{{margin:2rem 0}}figcaption{{font-weight:600}}svg{{max-width:100%;height:auto}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p>Definitions: docs/metrics.md. Times in minutes of calendar time unless marked business time.</p>
<table>{rows}</table>
{figures}
</body></html>
"""
