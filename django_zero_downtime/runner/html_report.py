"""One self-contained HTML page from a JSON report: what the migration did to live traffic.

Charts by plotly (the optional extra ``django-zero-downtime[report]``), its JavaScript inlined
so the page opens from a file with no network: the steps as bars on a time axis, the waits
of blocked live sessions on the same axis (with the budget), backfill progress; then the
verdict and the tables. Reads only the JSON form (``RunReport.to_dict()``), so a stored
report renders the same later (``manage.py safemigrate_report REPORT.json --html FILE``).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from django_zero_downtime.exceptions import ZeroDowntimeError

MISSING = (
    "The HTML report draws its charts with plotly, which is not installed: "
    "`pip install 'django-zero-downtime[report]'` (or `pip install plotly`)."
)
COLOURS = {"applied": "#2e7d32", "failed": "#c62828", "running": "#f9a825"}
STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;font-size:.9rem}
.ok{background:#e8f5e9;padding:.5rem 1rem}.bad{background:#ffebee;padding:.5rem 1rem}
"""


def write(report: dict[str, Any], path: str | Path) -> None:
    Path(path).write_text(render(report), encoding="utf-8")


def render(report: dict[str, Any]) -> str:
    """The whole page (pure: the report in, HTML out)."""
    title = f"safemigrate {report.get('release') or ''} on {report.get('database', '')}"
    body = [
        f"<h1>{escape(title)}</h1>",
        _verdict(report),
        _figure(report),
        "<h2>Steps</h2>",
        _table(*_step_rows(report)),
        "<h2>Backfills</h2>",
        _table(*_backfill_rows(report)),
        "<h2>Traffic (pg_stat_database)</h2>",
        _table(*_traffic_rows(report)),
        *_queries(report),
    ]
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title><style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )


def _verdict(report: dict[str, Any]) -> str:
    result = report.get("verification") or {}
    outcome = f"outcome: {report.get('outcome', '?')} (exit code {report.get('exit_code', '?')})"
    if not result:
        return f'<p class="bad">{escape(outcome)}; no verdict (no migration ran)</p>'
    if result.get("verified"):
        text = (
            f"verified: no live session waited longer than {result['budget_ms']} ms "
            f"(longest {result['longest_wait_ms']:.0f} ms)"
        )
        return f'<p class="ok" id="verdict">{escape(text)}; {escape(outcome)}</p>'
    reasons = "; ".join(result.get("reasons", []))
    return f'<p class="bad" id="verdict">NOT verified: {escape(reasons)}; {escape(outcome)}</p>'


def ran(timeline: dict[str, Any]) -> list[dict[str, Any]]:
    """Steps that started (each is one bar)."""
    return [s for s in timeline.get("steps", []) if s.get("start_s") is not None]


def _figure(report: dict[str, Any]) -> str:
    try:
        from plotly.subplots import make_subplots
    except ImportError:
        raise ZeroDowntimeError(MISSING) from None
    timeline = report.get("timeline") or {}
    figure = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        row_heights=[0.4, 0.3, 0.3],
        specs=[[{}], [{"secondary_y": True}], [{}]],
        subplot_titles=(
            "Steps",
            "Live sessions waiting on the migration (ms waited)",
            "Backfill progress (rows)",
        ),
    )
    figure.add_trace(_step_bars(ran(timeline)), row=1, col=1)
    for trace in _wait_traces(timeline, report):
        figure.add_trace(trace, row=2, col=1)
    figure.add_trace(_waiting_count(timeline), row=2, col=1, secondary_y=True)
    figure.update_yaxes(title_text="sessions waiting", row=2, col=1, secondary_y=True)
    for trace in _progress_traces(timeline):
        figure.add_trace(trace, row=3, col=1)
    figure.update_xaxes(showticklabels=True)
    figure.update_xaxes(title_text="seconds since the migration started", row=3, col=1)
    figure.update_yaxes(autorange="reversed", row=1, col=1)
    figure.update_layout(height=760, showlegend=True, margin={"l": 260, "r": 40, "t": 60})
    html: str = figure.to_html(
        full_html=False, include_plotlyjs=True, div_id="timeline", config={"displaylogo": False}
    )
    return html


def _step_bars(steps: list[dict[str, Any]]) -> Any:
    import plotly.graph_objects as go

    return go.Bar(
        name="steps",
        orientation="h",
        base=[s["start_s"] for s in steps],
        x=[max((s["end_s"] or s["start_s"]) - s["start_s"], 0.001) for s in steps],
        y=[f"{n}. {s['description'] or s['key']}"[:60] for n, s in enumerate(steps, 1)],
        marker_color=[COLOURS.get(s["outcome"], "#607d8b") for s in steps],
        hovertext=[
            f"{s['key']}: {s['lock']}, {s['outcome']}, {s['attempts']} attempt(s)" for s in steps
        ],
        showlegend=False,
    )


def _wait_traces(timeline: dict[str, Any], report: dict[str, Any]) -> list[Any]:
    import plotly.graph_objects as go

    waits: dict[int, tuple[list[float], list[float]]] = {}
    for sample in timeline.get("samples", []):
        for waiter in sample["blocked"]:
            xs, ys = waits.setdefault(waiter["pid"], ([], []))
            xs.append(sample["t"])
            ys.append(waiter["waited_ms"] or 0.0)
    traces = [
        go.Scatter(x=xs, y=ys, mode="lines+markers", name=f"pid {pid}")
        for pid, (xs, ys) in sorted(waits.items())
    ]
    times = [s["t"] for s in timeline.get("samples", [])] or [0.0]
    budget = (report.get("settings") or {}).get("budget_ms")
    if budget:
        line = {"dash": "dash", "color": "#c62828"}
        ends = [min(times), max(times)]
        traces.append(
            go.Scatter(x=ends, y=[budget, budget], mode="lines", name="budget", line=line)
        )
    return traces


def _waiting_count(timeline: dict[str, Any]) -> Any:
    """How many live sessions waited at each sample: the blocked sessions over time, also
    when none waited (a flat line at 0 is the good news)."""
    import plotly.graph_objects as go

    samples = timeline.get("samples", [])
    return go.Scatter(
        x=[s["t"] for s in samples],
        y=[len(s["blocked"]) for s in samples],
        mode="lines",
        line={"shape": "hv", "color": "#6a1b9a"},
        name="sessions waiting",
    )


def _progress_traces(timeline: dict[str, Any]) -> list[Any]:
    import plotly.graph_objects as go

    series: dict[str, tuple[list[float], list[int]]] = {}
    for batch in timeline.get("batches", []):
        xs, ys = series.setdefault(batch["label"] or batch["key"], ([], []))
        xs.append(batch["t"])
        ys.append(batch["done"])
    return [go.Scatter(x=xs, y=ys, mode="lines", name=label) for label, (xs, ys) in series.items()]


def _step_rows(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    figures = {_key(s): s for s in report.get("steps", [])}
    rows = []
    for span in (report.get("timeline") or {}).get("steps", []):
        f = figures.get(span["key"], {})
        rows.append([
            span["key"], span["description"], span["lock"], span["outcome"], span["start_s"],
            span["end_s"], f.get("retries", ""), f.get("lock_timeouts", ""),
            f.get("lock_wait_s", ""), f.get("blocked_sessions", ""), f.get("longest_block_ms", ""),
        ])  # fmt: skip
    head = ["step", "what", "lock", "outcome", "start s", "end s", "retries", "lock timeouts",
            "lock wait s", "sessions blocked", "longest wait ms"]  # fmt: skip
    return head, rows


def _key(step: dict[str, Any]) -> str:
    index = step.get("operation_index")
    return f"{step['app']}.{step['migration']}:{'deferred' if index is None else index}"


def _backfill_rows(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for batch in (report.get("timeline") or {}).get("batches", []):
        grouped.setdefault(batch["label"] or batch["key"], []).append(batch)
    rows = []
    for label, batches in grouped.items():
        seconds = sum(b["seconds"] or 0 for b in batches)
        visited = batches[-1]["done"]
        rate = f"{visited / seconds:,.0f}" if seconds else ""
        rows.append([label, batches[-1]["table"], len(batches), visited, f"{seconds:.2f}", rate])
    return ["backfill", "table", "batches", "rows", "batch seconds", "rows/s"], rows


def _traffic_rows(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    traffic = report.get("traffic") or {}
    keys = ["seconds", "commits", "rollbacks", "deadlocks", "transactions_per_s", "rollback_rate"]
    rows = [
        [window, *[traffic[window].get(k) for k in keys]]
        for window in ("before", "during")
        if window in traffic
    ]
    return ["window", *keys], rows


def _queries(report: dict[str, Any]) -> list[str]:
    queries = (report.get("traffic") or {}).get("top_queries")
    if not queries:
        return ["<p>pg_stat_statements: not installed on this database.</p>"]
    keys = ["query", "calls", "mean_ms_before", "mean_ms_during"]
    return [
        "<h2>Top queries (pg_stat_statements)</h2>",
        _table(keys, [[q[k] for k in keys] for q in queries]),
    ]


def _table(head: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "<p>none</p>"
    cells = "".join(
        "<tr>" + "".join(f"<td>{escape(_text(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f"<table><tr>{header}</tr>{cells}</table>"


def _text(value: Any) -> str:
    return "" if value is None else str(value)
