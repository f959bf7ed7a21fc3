"""Scorecard of an insights bundle for sign-off: HTML and PDF from one document.

:func:`scorecard_document` turns the bundle into an ordered list of blocks (headings,
paragraphs, tables, PNG charts); :func:`render_html` and :func:`render_pdf` lay out the
same blocks, so both show the same content. Order: the gate table first, then the
charts and tables of performance, fairness, explanations, error cohorts, causal effects
and counterfactuals (each beside its original row), then the component status. Nothing
is cut: long tables continue on the next PDF page (marked "continued"), wide tables
are split into column groups, long cells wrap. Rendering only reads the bundle.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from rai import scorecard_charts as charts
from rai.bundle import InsightsBundle

PAGE_LINES = 52  # monospaced lines per A4 landscape page at 7 pt
PAGE_CHARS = 190
CELL_WIDTH = 48


@dataclass
class Block:
    """One piece of the scorecard: ``kind`` is heading, text, table or chart."""

    kind: str
    title: str = ""
    text: str = ""
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    png: bytes | None = None


def scorecard_document(bundle: InsightsBundle) -> list[Block]:
    """The scorecard as blocks, shared by the HTML and PDF renderers."""
    parts = bundle.components
    verdicts = bundle.gate_verdicts()
    manifest = bundle.manifest
    overall = (
        "NO GATES CONFIGURED"
        if not verdicts
        else "PASS"
        if all(v.passed for v in verdicts)
        else "FAIL"
    )
    blocks = [
        Block("heading", title=f"raiwatch RAI scorecard — {overall}"),
        Block(
            "text",
            text=(
                f"model {manifest['model']['type']} (sha256 {manifest['model']['sha256'][:12]}), "
                f"train {manifest['data']['train']['rows']} rows, test "
                f"{manifest['data']['test']['rows']} rows, seed {manifest['seed']}"
            ),
        ),
    ]
    gate_rows = [
        {
            "label": v.gate.metric
            + (f" ({v.gate.sensitive_feature})" if v.gate.sensitive_feature else ""),
            "value": v.value,
            "passed": v.passed,
            "min": v.gate.min,
            "max": v.gate.max,
        }
        for v in verdicts
    ]
    gate_table = pd.DataFrame(
        [
            {
                "verdict": "PASS" if v.passed else "FAIL",
                "metric": v.gate.metric,
                "sensitive feature": v.gate.sensitive_feature or "all",
                "value": _fmt(v.value),
                "threshold": v.gate.threshold_text,
                "reason": v.reason,
            }
            for v in verdicts
        ]
    )
    blocks.append(Block("table", title="Release gates", table=gate_table))
    if not verdicts:
        blocks.append(Block("text", text="No gates configured: nothing was judged (not a pass)."))
    blocks.append(
        Block("chart", title="Gate values against thresholds", png=charts.gate_chart(gate_rows))
    )
    if _ok(bundle, "performance"):
        targets = {v.gate.metric: v.gate.threshold_text for v in verdicts}
        metrics = parts["performance"].summary["metrics"]
        blocks.append(
            Block(
                "table",
                title="Model performance (test data)",
                table=pd.DataFrame(
                    [
                        {"metric": k, "value": _fmt(v), "target": targets.get(k, "")}
                        for k, v in metrics.items()
                    ]
                ),
            )
        )
    if _ok(bundle, "fairness"):
        blocks.extend(_fairness_blocks(bundle, verdicts))
    if _ok(bundle, "explanation"):
        blocks.extend(_explanation_blocks(bundle))
    if _ok(bundle, "error_analysis"):
        blocks.extend(_error_blocks(bundle))
    if _ok(bundle, "causal"):
        blocks.extend(_causal_blocks(bundle))
    if _ok(bundle, "counterfactual"):
        blocks.extend(_counterfactual_blocks(bundle))
    blocks.append(
        Block(
            "table",
            title="Components",
            table=pd.DataFrame(
                [
                    {
                        "component": n,
                        "status": r.status,
                        "error or warnings": r.error or "; ".join(r.summary.get("warnings", [])),
                    }
                    for n, r in parts.items()
                ]
            ),
        )
    )
    return [b for b in blocks if b.kind != "chart" or b.png is not None]


def _fairness_blocks(bundle: InsightsBundle, verdicts: list[Any]) -> list[Block]:
    result = bundle.components["fairness"]
    table = result.tables["group_metrics"]
    main = {"binary": "selection_rate", "multiclass": "accuracy", "regression": "mae"}[
        bundle.config.task
    ]
    gated = {
        _base_metric(v.gate.metric) for v in verdicts if v.gate.metric in _fairness_names(result)
    }
    blocks = [Block("heading", title="Fairness")]
    aggregates = []
    for feature, info in result.summary["features"].items():
        for name, value in info["aggregates"].items():
            low, high = info["aggregate_intervals"].get(name, [None, None])
            aggregates.append(
                {
                    "sensitive feature": feature,
                    "metric": name,
                    "value": _fmt(value),
                    "95% interval": f"[{_fmt(low)}, {_fmt(high)}]",
                    "p-value (no disparity)": _fmt(info.get("p_values", {}).get(name)),
                    "groups too small": ", ".join(info["small_groups"]) or "-",
                }
            )
    blocks.append(
        Block(
            "table",
            title="Fairness: differences and ratios between groups",
            table=pd.DataFrame(aggregates),
        )
    )
    for feature in result.summary["features"]:
        for metric in sorted({main, *(g for g in gated if g)}):
            blocks.append(
                Block(
                    "chart",
                    title=f"{metric} by {feature}",
                    png=charts.group_chart(table, feature, metric),
                )
            )
    shown = table.assign(
        value=table["value"].map(_fmt),
        interval=[
            f"[{_fmt(a)}, {_fmt(b)}]"
            for a, b in zip(table["ci_low"], table["ci_high"], strict=True)
        ],
        difference_from_max=table["difference_from_max"].map(_fmt),
        ratio_to_max=table["ratio_to_max"].map(_fmt),
    )[
        [
            "sensitive_feature",
            "group",
            "count",
            "metric",
            "value",
            "interval",
            "difference_from_max",
            "ratio_to_max",
            "too_small",
        ]
    ]
    blocks.append(
        Block(
            "table",
            title="Fairness: per-group metrics, sizes, differences and ratios to the best group",
            table=shown,
        )
    )
    return blocks


def _explanation_blocks(bundle: InsightsBundle) -> list[Block]:
    result = bundle.components["explanation"]
    table = result.tables["permutation_importance"].head(15)
    return [
        Block("heading", title="Top features (permutation importance of the real model)"),
        Block(
            "chart",
            title="Permutation importance (95% t-intervals)",
            png=charts.interval_chart(
                list(table["feature"]),
                list(table["importance_mean"]),
                list(table["ci_low"]),
                list(table["ci_high"]),
                f"Drop in {result.summary['permutation']['scoring']} when shuffled",
            ),
        ),
        Block(
            "table",
            title="Top features",
            table=table[["rank", "feature", "importance_mean", "ci_low", "ci_high"]].map(_fmt),
        ),
        Block("text", text=f"Local attributions: {result.summary['shap']['method']}."),
    ]


def _error_blocks(bundle: InsightsBundle) -> list[Block]:
    result = bundle.components["error_analysis"]
    measure = result.summary.get("error_measure", "misclassification")
    column = "error rate" if measure == "misclassification" else "mean absolute residual"
    cohorts = result.tables["cohorts"].head(8).reset_index(drop=True)
    shown = pd.DataFrame(
        {
            "cohort": [f"cohort {i + 1}" for i in range(len(cohorts))],
            "filter": cohorts["filter"],
            "size": cohorts["size"],
            column: cohorts["error_rate"].map(_fmt),
            "share of all error": cohorts["error_coverage"].map(_fmt),
        }
    )
    return [
        Block("heading", title="Worst error cohorts"),
        Block(
            "chart",
            title=f"Worst cohorts by {column}",
            png=charts.bar_chart(list(shown["cohort"]), list(cohorts["error_rate"]), column),
        ),
        Block("table", title=f"Worst error cohorts ({column})", table=shown),
    ]


def _causal_blocks(bundle: InsightsBundle) -> list[Block]:
    summary = bundle.components["causal"].summary
    effects = summary["effects"]
    refutations = summary["refutations"]
    verdict = {
        e["treatment"]: all(r["passed"] for r in refutations if r["treatment"] == e["treatment"])
        for e in effects
    }
    blocks = [
        Block("heading", title="Causal effects"),
        Block(
            "text",
            text=(
                f"Outcome {summary['outcome']}; estimand {str(summary.get('estimand', 'ate')).upper()}; "
                f"estimator {summary['estimator']}; rows: {summary.get('data', 'train')} data "
                f"({summary['rows']} rows)."
            ),
        ),
    ]
    for warning in summary.get("warnings", []):
        blocks.append(Block("text", text=f"WARNING: {warning}"))
    blocks.append(
        Block(
            "chart",
            title="Causal effects with 95% intervals (green: every refutation passed)",
            png=charts.interval_chart(
                [e["treatment"] for e in effects],
                [e["effect"] for e in effects],
                [e["ci_low"] for e in effects],
                [e["ci_high"] for e in effects],
                "Effects (95% intervals); red: a refutation failed",
                colours=[
                    charts.PASS_COLOUR if verdict[e["treatment"]] else charts.FAIL_COLOUR
                    for e in effects
                ],
            ),
        )
    )
    rows = []
    for e in effects:
        overlap = e.get("overlap") or {}
        rows.append(
            {
                "treatment": e["treatment"],
                "method": e["method"],
                "estimand": str(e.get("estimand", "ate")).upper(),
                "effect": _fmt(e["effect"]),
                "95% interval": f"[{_fmt(e['ci_low'])}, {_fmt(e['ci_high'])}]",
                "p-value": _fmt(e["p_value"]),
                "share outside [0.05, 0.95]": _fmt(overlap.get("share_outside")),
                "overlap": "-" if not overlap else "ok" if overlap.get("passed") else "POOR",
            }
        )
    blocks.append(Block("table", title="Causal effects", table=pd.DataFrame(rows)))
    blocks.append(
        Block(
            "table",
            title="Refutations (each with its pass rule)",
            table=pd.DataFrame(
                [
                    {
                        "treatment": r["treatment"],
                        "refutation": r["refutation"],
                        "result": _fmt(
                            r.get("new_effect")
                            if r.get("new_effect") is not None
                            else r.get("robustness_value")
                        ),
                        "verdict": "PASS" if r["passed"] else "FAIL",
                        "rule": r["rule"],
                    }
                    for r in refutations
                ]
            ),
        )
    )
    return blocks


def _counterfactual_blocks(bundle: InsightsBundle) -> list[Block]:
    result = bundle.components["counterfactual"]
    cfs, queries = result.tables["counterfactuals"], result.tables.get("queries", pd.DataFrame())
    features = list(bundle.manifest["features"]["all"])
    s = result.summary
    blocks = [
        Block("heading", title="Example counterfactuals"),
        Block(
            "text",
            text=(
                f"validity {_fmt(s.get('validity'))} ({s.get('validity_rule', 'desired outcome')}); "
                f"mean features changed {_fmt(s.get('mean_features_changed'))}; mean distance "
                f"{_fmt(s.get('mean_distance'))}. Changed values are marked with *."
            ),
        ),
    ]
    if cfs.empty or queries.empty:
        return blocks
    for row in sorted(queries["row"].unique()):
        original = queries[queries["row"] == row].iloc[0]
        mine = cfs[cfs["row"] == row].head(5)
        if mine.empty:
            continue
        columns: dict[str, list[str]] = {
            "feature": [*features, "prediction", "valid", "respects constraints"]
        }
        columns[f"row {row} (original)"] = [_fmt(original[f]) for f in features] + [
            _fmt(original["predicted"]) if "predicted" in original else "",
            "",
            "",
        ]
        for k, (_, cf) in enumerate(mine.iterrows()):
            cells = [
                _fmt(cf[f]) + (" *" if str(cf[f]) != str(original[f]) else "") for f in features
            ]
            cells += [
                _fmt(cf["predicted"]),
                str(bool(cf["valid"])),
                str(bool(cf["respects_constraints"])),
            ]
            columns[f"counterfactual {k + 1}"] = cells
        blocks.append(
            Block(
                "table",
                title=f"Counterfactuals of test row {row} beside the original",
                table=pd.DataFrame(columns),
            )
        )
    return blocks


def write_scorecard(bundle: InsightsBundle, out_dir: Path) -> tuple[Path, Path]:
    """Write ``scorecard.html`` and ``scorecard.pdf`` into ``out_dir``; return both paths."""
    blocks = scorecard_document(bundle)
    html_path, pdf_path = out_dir / "scorecard.html", out_dir / "scorecard.pdf"
    html_path.write_text(render_html(blocks))
    render_pdf(blocks, pdf_path)
    return html_path, pdf_path


def render_html(blocks: list[Block]) -> str:
    """A self-contained HTML page (no scripts, charts as base64 PNG)."""
    body = []
    for block in blocks:
        if block.kind == "heading":
            tag = "h1" if block.title.startswith("raiwatch RAI scorecard") else "h2"
            body.append(f"<{tag}>{html.escape(block.title)}</{tag}>")
        elif block.kind == "text":
            body.append(f"<p>{html.escape(block.text)}</p>")
        elif block.kind == "table":
            body.append(f"<h3>{html.escape(block.title)}</h3>")
            body.append(
                block.table.to_html(index=False, escape=True, border=0)
                if len(block.table)
                else "<p>nothing to show</p>"
            )
        elif block.png is not None:
            encoded = base64.b64encode(block.png).decode()
            body.append(
                f"<figure><img alt='{html.escape(block.title)}' src='data:image/png;base64,{encoded}'>"
                f"<figcaption>{html.escape(block.title)}</figcaption></figure>"
            )
    style = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}"
        "td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}"
        "img{max-width:100%}"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>RAI scorecard</title>"
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )


def table_pages(title: str, table: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """Monospaced pages of a table: wrapped cells, column groups when too wide, and
    "(continued)" titles when too long. Every cell's full text is kept."""
    if table.empty:
        return [(title, ["nothing to show"])]
    frame = table.astype(str)
    widths = {
        c: min(CELL_WIDTH, max(len(str(c)), *(len(v) for v in frame[c]))) for c in frame.columns
    }
    key, rest = frame.columns[0], list(frame.columns[1:])
    groups: list[list[str]] = []
    current: list[str] = []
    used = widths[key] + 3
    for column in rest:
        if current and used + widths[column] + 3 > PAGE_CHARS:
            groups.append(current)
            current, used = [], widths[key] + 3
        current.append(column)
        used += widths[column] + 3
    groups.append(current)
    pages = []
    for g, group in enumerate(groups):
        columns = [key, *group]
        lines = [_line([str(c) for c in columns], columns, widths)]
        lines.append("-" * len(lines[0]))
        header = lines[:]
        body: list[str] = []
        for _, row in frame[columns].iterrows():
            wrapped = [textwrap.wrap(row[c], widths[c]) or [""] for c in columns]
            for i in range(max(len(w) for w in wrapped)):
                body.append(_line([w[i] if i < len(w) else "" for w in wrapped], columns, widths))
        suffix = f" (columns {g + 1} of {len(groups)})" if len(groups) > 1 else ""
        room = PAGE_LINES - len(header)
        for start in range(0, max(len(body), 1), room):
            continued = " (continued)" if start else ""
            pages.append((f"{title}{suffix}{continued}", header + body[start : start + room]))
    return pages


def _line(cells: list[str], columns: list[str], widths: dict[str, int]) -> str:
    return " | ".join(cell.ljust(widths[c]) for cell, c in zip(cells, columns, strict=True))


def pdf_pages(blocks: list[Block]) -> list[Any]:
    """The PDF pages as matplotlib figures (also rendered to PNG by the tests).

    Tables are stacked on a page while they fit (a short table per counterfactual row
    does not take a page of its own); a table longer than a page was already split by
    :func:`table_pages` into pages titled "(continued)". Each chart has its own page.
    """
    figures: list[Any] = []
    lead: list[str] = []
    line = (0.96 - 0.03 - 0.04) / PAGE_LINES  # a monospaced line's share of the page height
    page: Any = None
    top = 0.0

    def new_page() -> tuple[Any, float]:
        nonlocal lead
        figure = Figure(figsize=(11.7, 8.3))  # not pyplot-managed: pages can be many
        figures.append(figure)
        y = 0.96
        for text in lead:
            for piece in textwrap.wrap(text, 150):
                figure.text(0.03, y, piece, fontsize=10, va="top")
                y -= 0.03
        lead = []
        return figure, y

    for block in blocks:
        if block.kind in ("heading", "text"):
            lead.append(block.title or block.text)
            continue
        if block.kind == "table":
            for title, lines in table_pages(block.title, block.table):
                needed = 0.04 + len(lines) * line + 0.02 + 0.03 * sum(
                    len(textwrap.wrap(t, 150)) for t in lead
                )
                if page is None or top - needed < 0.03:
                    page, top = new_page()
                else:
                    for text in lead:  # text that leads this table, on the same page
                        for piece in textwrap.wrap(text, 150):
                            page.text(0.03, top, piece, fontsize=10, va="top")
                            top -= 0.03
                    lead = []
                page.text(0.03, top, title, fontsize=12, weight="bold", va="top")
                page.text(0.03, top - 0.04, "\n".join(lines), fontsize=7, family="monospace", va="top")
                top -= 0.04 + len(lines) * line + 0.02
        elif block.png is not None:
            figure, y = new_page()
            figure.text(0.03, y, block.title, fontsize=12, weight="bold", va="top")
            image = plt.imread(io.BytesIO(block.png), format="png")
            axes = figure.add_axes((0.03, 0.03, 0.94, y - 0.09))
            axes.imshow(image)
            axes.axis("off")
            page = None  # the next table starts a new page
    return figures


def render_pdf(blocks: list[Block], path: Path) -> None:
    """Write the PDF (one page per chart, tables paginated)."""
    with PdfPages(path, metadata={"CreationDate": None, "ModDate": None}) as pdf:
        for figure in pdf_pages(blocks):
            pdf.savefig(figure)


def _fairness_names(result: Any) -> set[str]:
    return {n for info in result.summary["features"].values() for n in info["aggregates"]}


def _base_metric(name: str) -> str | None:
    if name.startswith("demographic_parity"):
        return "selection_rate"
    if name.startswith("equalized_odds"):
        return "tpr"
    for suffix in ("_difference", "_ratio"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def _ok(bundle: InsightsBundle, name: str) -> bool:
    result = bundle.components.get(name)
    return result is not None and result.ok


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
