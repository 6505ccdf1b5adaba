"""The plan every output cites: title, issuing body, document number and date.

Verified against the plan's full text (geodata/sources/plan_fulltext_zh.txt: the notice
密政发〔2021〕37号 of the 北京市密云区人民政府, dated 2021年10月12日).
"""

from __future__ import annotations

PLAN_TITLE_ZH = "密云区“十四五”时期高精尖产业发展规划"
PLAN_TITLE_EN = "Miyun District 14th Five-Year Plan for high-tech industries"
PLAN_ISSUER_ZH = "北京市密云区人民政府"
PLAN_ISSUER_EN = "Miyun District People's Government, Beijing"
PLAN_DOCUMENT = "密政发〔2021〕37号"
PLAN_DATE = "2021-10-12"

PLAN_CITATION = f"{PLAN_ISSUER_ZH}《{PLAN_TITLE_ZH}》（{PLAN_DOCUMENT}，{PLAN_DATE}）"
PLAN_CITATION_EN = f"{PLAN_ISSUER_EN}, {PLAN_TITLE_EN} ({PLAN_DOCUMENT}), issued {PLAN_DATE}"

SCHEMATIC_MARK_ZH = "示意/合成数据，不作审批依据"
SCHEMATIC_MARK_EN = "Schematic/synthetic data – not a basis for approval"
LOCAL_TIMEZONE = "Asia/Shanghai"
