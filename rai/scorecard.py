"""Scorecard of an insights bundle as HTML and PDF (matplotlib ``PdfPages``).

Both show the same sections: gates with measured values, model performance against
targets, fairness, top features, worst error cohorts, causal effects, example
counterfactuals and the status of every component. Rendering only reads the bundle.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

from rai.bundle import InsightsBundle


def scorecard_sections(bundle: InsightsBundle) -> list[tuple[str, pd.DataFrame]]:
    """The scorecard as (title, table) pairs, shared by the HTML and PDF renderers."""
    parts = bundle.components
    verdicts = bundle.gate_verdicts()
    sections = [
        (
            "Release gates",
            pd.DataFrame(
                [
                    {
                        "metric": v.gate.metric,
                        "sensitive feature": v.gate.sensitive_feature or "all",
                        "value": _fmt(v.value),
                        "threshold": v.gate.threshold_text,
                        "verdict": "PASS" if v.passed else "FAIL",
                        "reason": v.reason,
                    }
                    for v in verdicts
                ]
            ),
        )
    ]
    targets = {v.gate.metric: v.gate.threshold_text for v in verdicts}
    if _ok(bundle, "performance"):
        metrics = parts["performance"].summary["metrics"]
        sections.append(
            (
                "Model performance (test data)",
                pd.DataFrame(
                    [
                        {"metric": k, "value": _fmt(v), "target": targets.get(k, "")}
                        for k, v in metrics.items()
                    ]
                ),
            )
        )
    if _ok(bundle, "fairness"):
        rows = []
        for feature, info in parts["fairness"].summary["features"].items():
            for name, value in info["aggregates"].items():
                if name.endswith("difference"):
                    low, high = info["aggregate_intervals"].get(name, [None, None])
                    rows.append(
                        {
                            "sensitive feature": feature,
                            "metric": name,
                            "value": _fmt(value),
                            "95% interval": f"[{_fmt(low)}, {_fmt(high)}]",
                            "groups too small": ", ".join(info["small_groups"]) or "-",
                        }
                    )
        sections.append(("Fairness", pd.DataFrame(rows)))
    if _ok(bundle, "explanation"):
        table = parts["explanation"].tables["permutation_importance"].head(10)
        sections.append(
            (
                "Top features (permutation importance of the real model)",
                table[["rank", "feature", "importance_mean", "ci_low", "ci_high"]].round(4),
            )
        )
    if _ok(bundle, "error_analysis"):
        cohorts = parts["error_analysis"].tables["cohorts"].head(5)
        sections.append(
            (
                "Worst error cohorts",
                cohorts[["filter", "size", "error_rate", "error_coverage"]].round(4),
            )
        )
    if _ok(bundle, "causal"):
        effects = parts["causal"].tables["effects"]
        sections.append(
            (
                "Causal effects",
                effects[["treatment", "effect", "ci_low", "ci_high", "p_value"]].round(4),
            )
        )
    if _ok(bundle, "counterfactual"):
        cfs = parts["counterfactual"].tables["counterfactuals"]
        sections.append(("Example counterfactuals", cfs.head(6).round(3)))
    sections.append(
        (
            "Components",
            pd.DataFrame(
                [
                    {"component": n, "status": r.status, "error": r.error or ""}
                    for n, r in parts.items()
                ]
            ),
        )
    )
    return sections


def write_scorecard(bundle: InsightsBundle, out_dir: Path) -> tuple[Path, Path]:
    """Write ``scorecard.html`` and ``scorecard.pdf`` into ``out_dir``; return both paths."""
    sections = scorecard_sections(bundle)
    html_path, pdf_path = out_dir / "scorecard.html", out_dir / "scorecard.pdf"
    html_path.write_text(render_html(bundle, sections))
    with PdfPages(pdf_path, metadata={"CreationDate": None, "ModDate": None}) as pdf:
        for title, table in sections:
            figure = plt.figure(figsize=(11.7, 8.3))
            figure.suptitle(title, fontsize=14, x=0.05, ha="left")
            axes = figure.add_axes((0.03, 0.05, 0.94, 0.85))
            axes.axis("off")
            if len(table):
                shown = (
                    table.head(20).astype(str).map(lambda s: s if len(s) < 60 else s[:57] + "...")
                )
                drawn = axes.table(
                    cellText=shown.to_numpy(),
                    colLabels=list(shown.columns),
                    loc="upper center",
                    cellLoc="left",
                )
                drawn.auto_set_font_size(False)
                drawn.set_fontsize(7)
            else:
                axes.text(0.0, 0.9, "nothing to show", fontsize=10)
            pdf.savefig(figure)
            plt.close(figure)
    return html_path, pdf_path


def render_html(bundle: InsightsBundle, sections: list[tuple[str, pd.DataFrame]]) -> str:
    """A self-contained HTML page (no scripts) of the scorecard sections."""
    manifest = bundle.manifest
    verdicts = bundle.gate_verdicts()
    overall = (
        "NO GATES CONFIGURED" if not verdicts else "PASS" if all(v.passed for v in verdicts) else "FAIL"
    )
    head = (
        f"<h1>raiwatch RAI scorecard — {overall}</h1><p>model {html.escape(manifest['model']['type'])}"
        f" (sha256 {manifest['model']['sha256'][:12]}), train {manifest['data']['train']['rows']} rows,"
        f" test {manifest['data']['test']['rows']} rows, seed {manifest['seed']}</p>"
    )
    body = "".join(
        f"<h2>{html.escape(title)}</h2>"
        + (
            table.to_html(index=False, escape=True, border=0)
            if len(table)
            else "<p>nothing to show</p>"
        )
        for title, table in sections
    )
    style = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>RAI scorecard</title>"
        f"<style>{style}</style></head><body>{head}{body}</body></html>\n"
    )


def _ok(bundle: InsightsBundle, name: str) -> bool:
    result = bundle.components.get(name)
    return result is not None and result.ok


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)
