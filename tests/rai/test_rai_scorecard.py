"""The scorecard: gate table first, charts, nothing truncated, PDF pages = HTML content."""

from __future__ import annotations

import html
import io
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import base_config, forest_pipeline, known_regression

from rai.pipeline import build_from_frames
from rai.scorecard import pdf_pages, scorecard_document, table_pages


@pytest.fixture(scope="module")
def card(binary_data, tmp_path_factory):
    train, test, model = binary_data
    out = tmp_path_factory.mktemp("card")
    config = base_config(
        gates=[
            {"metric": "accuracy", "min": 0.7},
            {"metric": "demographic_parity_difference", "sensitive_feature": "sex", "max": 0.01},
        ],
        sensitive_features=["sex", "colour"],
        error_analysis={"max_depth": 4, "min_samples_leaf": 5},
    )
    bundle = build_from_frames(model, train, test, config=config, out_dir=out)
    return bundle, out


def _html_text(page: str) -> str:
    no_images = re.sub(r"<img[^>]*>", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", no_images))


def test_gate_table_first_then_charts_and_every_section(card) -> None:
    bundle, out = card
    blocks = scorecard_document(bundle)
    tables = [b for b in blocks if b.kind == "table"]
    assert tables[0].title == "Release gates"
    assert list(tables[0].table["verdict"]) == ["PASS", "FAIL"]
    charts = [b.title for b in blocks if b.kind == "chart"]
    assert charts[0] == "Gate values against thresholds"
    assert any(t.startswith("selection_rate by sex") for t in charts)
    assert any("Permutation importance" in t for t in charts)
    assert any("Worst cohorts" in t for t in charts)
    assert any("Causal effects" in t for t in charts)
    page = (out / "scorecard.html").read_text()
    assert page.count("data:image/png;base64,") == len(charts)
    for title in (
        "Release gates",
        "Model performance",
        "per-group metrics, sizes",
        "Refutations (each with its pass rule)",
        "beside the original",
        "p-value (no disparity)",
    ):
        assert title in page
    assert "FAIL" in page and "raiwatch RAI scorecard — FAIL" in page


def test_long_tables_paginate_and_keep_every_row_and_cell() -> None:
    long = pd.DataFrame(
        {"row": range(130), "filter": ["x <= 1 and " * 12 + f"end{i}" for i in range(130)]}
    )
    pages = table_pages("Cohorts", long)
    assert len(pages) > 2
    assert pages[0][0] == "Cohorts" and pages[1][0] == "Cohorts (continued)"
    text = "\n".join(line for _, lines in pages for line in lines)
    for i in range(130):
        assert f"end{i}" in text  # the last words of every long cell survive
    wide = pd.DataFrame({f"column_{i}": [f"value_{i}"] for i in range(40)})
    pages = table_pages("Wide", wide)
    assert "(columns 1 of" in pages[0][0]
    text = "\n".join(line for _, lines in pages for line in lines)
    assert all(f"value_{i}" in text for i in range(40))


def test_pdf_pages_render_to_png_and_hold_the_html_content(card) -> None:
    bundle, out = card
    blocks = scorecard_document(bundle)
    figures = pdf_pages(blocks)
    pdf_text = []
    for figure in figures:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=40)
        image = plt.imread(io.BytesIO(buffer.getvalue()))
        assert image.std() > 0  # something is drawn
        pdf_text.extend(t.get_text() for t in figure.texts)
        plt.close(figure)
    joined = re.sub(r"\s+", " ", " ".join(pdf_text))
    page_text = re.sub(r"\s+", " ", _html_text((out / "scorecard.html").read_text()))
    for block in blocks:
        if block.kind != "table":
            continue
        for value in block.table.astype(str).to_numpy().ravel():
            for word in value.split():
                assert word in joined, (block.title, word)
                assert word in page_text, (block.title, word)
    # every chart of the HTML is a page of the PDF
    chart_titles = [b.title for b in blocks if b.kind == "chart"]
    assert all(title in joined for title in chart_titles)
    assert (out / "scorecard.pdf").read_bytes().startswith(b"%PDF")


def test_regression_cohort_column_is_named_for_what_it_holds(tmp_path) -> None:
    frame = known_regression(400)
    train, test = frame.iloc[:300].reset_index(drop=True), frame.iloc[300:].reset_index(drop=True)
    config = base_config(
        task="regression",
        components=["performance", "error_analysis"],
        gates=[{"metric": "mae", "max": 5}],
        sensitive_features=[],
        treatment_features=[],
    )
    bundle = build_from_frames(
        forest_pipeline(train, regression=True), train, test, config=config, out_dir=tmp_path
    )
    tables = {b.title: b.table for b in scorecard_document(bundle) if b.kind == "table"}
    cohorts = tables["Worst error cohorts (mean absolute residual)"]
    assert "mean absolute residual" in cohorts.columns and "error rate" not in cohorts.columns
    stored = bundle.components["error_analysis"].tables["cohorts"]
    np.testing.assert_allclose(
        cohorts["mean absolute residual"].astype(float), stored["error_rate"].head(8), rtol=1e-3
    )
