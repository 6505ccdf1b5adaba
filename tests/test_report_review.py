"""The review document's front matter on the default data: the findings say what changes,
what is off target and what the plan's own figures get wrong, with the figures of the data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from miyun_spatial.render.reports import assemble_report, gather_inputs


@pytest.fixture(scope="module")
def front(default_results):
    generated = datetime(2026, 11, 29, 16, 30, tzinfo=UTC)
    inputs = gather_inputs(default_results, generated=generated, maps=())
    return assemble_report(inputs).front


def test_plan_cited_and_local_time(front):
    assert front.citation[0] == (
        "北京市密云区人民政府《密云区“十四五”时期高精尖产业发展规划》（密政发〔2021〕37号，2021-10-12）"
    )
    assert dict(front.run)["生成时间 Generated"] == "2026-11-30 00:30 (Asia/Shanghai, UTC+08:00)"
    assert (
        front.mark
        == "示意/合成数据，不作审批依据 Schematic/synthetic data – not a basis for approval"
    )


def test_findings(front):
    groups = {g.key: g for g in front.findings}
    assert list(groups) == ["changes", "off_target", "plan_errors"]
    changes = " ".join(groups["changes"].items)
    assert (
        "A1 密云经济开发区A区F3多功能用地调整：108.00 ha（1,620 亩） 由 F3 调整为 M1/A35" in changes
    )
    assert (
        "逐步退出 exit 1（B7）" in changes and "B7 太师屯镇金湖农民就业产业基地：M1→LB" in changes
    )
    off = " ".join(groups["off_target"].items)
    assert "8,311 万元/公顷，为2025年目标 12,000 的 69.3%" in off
    assert "低效用地 20 个地块" in off and "排第 15 名" in off
    wrong = groups["plan_errors"].table.frame
    assert len(wrong) == 10
    assert {(595_000.0, 195_000.0), (1_055_260.0, 655_260.0)} <= set(
        zip(wrong["stated"], wrong["recomputed"], strict=True)
    )
