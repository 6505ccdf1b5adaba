"""A target edited in ``land_facts`` reaches every output: one figure, computed in one place."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from gpkg_edit import overwrite, read

from miyun_spatial.core.vocabulary import VOCABULARY

REVENUE_TARGET = 12345.0  # instead of the plan's 12000 万元/公顷 (F12)
OUTPUT_TARGET = 10987.0  # instead of the plan's 11000 元/平方米 (F15)


@pytest.mark.slow
def test_an_edited_target_shows_on_the_map_in_both_reports_the_csv_and_the_summary(
    tmp_path, cli, gpkg_copy
):
    facts = read(gpkg_copy, "land_facts")
    for fact, value in (
        ("revenue_target_per_ha_2025", REVENUE_TARGET),
        ("output_target_yuan_per_m2_2025", OUTPUT_TARGET),
    ):
        facts.loc[facts["fact_code"] == VOCABULARY.fact(fact), "value"] = value
    overwrite(gpkg_copy, "land_facts", facts)
    out = tmp_path / "out"
    result = cli("build", gpkg_copy, "--out", out, "--offline")
    assert result.returncode == 0, result.stderr
    shown = {f"{REVENUE_TARGET:,.0f}", f"{OUTPUT_TARGET:,.0f}"}

    zones = list(csv.DictReader(io.StringIO((out / "zone_yields.csv").read_text("utf-8-sig"))))
    park = next(r for r in zones if r["layer"] == "zgc_park" and r["zone"] == "Z1")
    assert float(park["target_revenue_per_ha"]) == REVENUE_TARGET
    assert float(park["target_output_yuan_per_m2"]) == OUTPUT_TARGET

    assert all(text in result.stdout for text in shown), result.stdout

    workbook = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    numbers = {
        cell
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if isinstance(cell, int | float)
    }
    assert {REVENUE_TARGET, OUTPUT_TARGET} <= numbers

    report = (out / "report.html").read_text("utf-8")
    assert all(text in report for text in shown)

    page = (out / "yield.html").read_text("utf-8")
    assert all(text in page for text in shown)
    assert "11000" not in page and "11,000" not in page  # the plan's own target is gone
