"""Figures the plan states in its text but the GeoPackage does not hold, with where it states them.

The consistency checks compare these with each other and with the GeoPackage's tables. They
are transcribed from ``geodata/sources/plan_fulltext_zh.txt`` (the plan as issued on
2021-10-12); each record quotes the plan's own words so a reviewer can find the sentence.
Nothing here is ever used to correct the data.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.catalogue import CATALOGUE

YEARS_2020_2025 = 5  # Table 2-1 compares 2020 with 2025


@dataclass(frozen=True)
class Stated:
    """One figure as the plan prints it."""

    value: float
    unit: str
    section: str
    quote_zh: str


@dataclass(frozen=True)
class PartsSum:
    """A total the plan prints together with its parts."""

    key: str
    subject: str
    section: str
    unit: str
    total: float
    parts: tuple[tuple[str, float], ...]
    quote_zh: str


@dataclass(frozen=True)
class ShareOf:
    """A share the plan prints together with the two amounts it is the ratio of."""

    key: str
    subject: str
    section: str
    part: float
    whole: float
    share_pct: float
    quote_zh: str


PARTS_SUMS: tuple[PartsSum, ...] = (
    PartsSum(
        "gdp_structure_2015",
        "三次产业结构 2015 Economic structure 2015",
        "一（一）1",
        "%",
        100.0,
        (("第一产业", 7.0), ("第二产业", 34.8), ("第三产业", 58.2)),
        "三次产业结构由2015年的7:34.8:58.2",
    ),
    PartsSum(
        "gdp_structure_2020",
        "三次产业结构 2020 Economic structure 2020",
        "一（一）1",
        "%",
        100.0,
        (("第一产业", 3.7), ("第二产业", 25.2), ("第三产业", 71.1)),
        "调整为2020年的3.7:25.2:71.1",
    ),
    PartsSum(
        "hightech_firms_2020",
        "高精尖企业数 High-tech firms 2020",
        "一（一）2",
        "家",
        51.0,
        (("高精尖制造业", 19.0), ("科技服务业", 19.0), ("软件信息服务业", 13.0)),
        "全区高精尖企业共51家。其中，高精尖制造业企业19家……科技服务业企业19家……软件信息服务业企业13家",
    ),
    PartsSum(
        "park_tax_2020",
        "密云园税收 Miyun park tax revenue 2020",
        "一（一）4",
        "亿元",
        37.7,
        (("开发区", 29.4), ("商务区", 9.3)),
        "园区完成税收37.7亿元（开发区29.4亿元，商务区9.3亿元）",
    ),
    PartsSum(
        "national_hightech_by_field",
        "国家级高新技术企业（按领域） National high-tech enterprises by field",
        "一（一）5",
        "家",
        520.0,
        (
            ("电子信息", 227.0),
            ("高技术服务业", 105.0),
            ("先进制造与自动化", 79.0),
            ("生物医药", 36.0),
            ("新能源与节能技术", 18.0),
            ("资源环境", 33.0),
            ("新材料", 20.0),
            ("航空航天", 2.0),
        ),
        "国家级高新技术企业总数达520家……电子信息（227家）……航空航天（2家）等领域",
    ),
    PartsSum(
        "research_institution_items",
        "市级以上研发机构（项） Research institutions (recognitions)",
        "一（一）5",
        "项",
        33.0,
        (("科技部", 2.0), ("市科委", 17.0), ("市发改委", 6.0), ("市经信局", 8.0)),
        "市级以上研发机构27家33项，其中经科技部认定的2项、市科委认定的17项、市发改委认定的6项、市经信局认定的8项",
    ),
)

INDUSTRIAL_OUTPUT_2020 = Stated(
    220.0, "亿元", "一（一）3", "全区规模以上工业企业共140家，实现产值220亿元"
)
SHARES: tuple[ShareOf, ...] = (
    ShareOf(
        "hightech_mfg_share",
        "高精尖制造业产值占比 High-tech manufacturing share",
        "一（一）2",
        63.5,
        220.0,
        28.9,
        "高精尖制造业企业19家，实现产值63.5亿元，占规模以上工业总产值的比重为28.9%",
    ),
    ShareOf(
        "auto_share",
        "汽车及交通设备产业占比 Automotive share",
        "一（一）3",
        53.6,
        220.0,
        24.4,
        "汽车及交通设备产业实现产值53.6亿元，占比……2020年的24.4%",
    ),
    ShareOf(
        "urban_share",
        "都市产业占比 Urban industries share",
        "一（一）3",
        51.0,
        220.0,
        23.3,
        "都市产业实现产值51亿元，占比为23.3%",
    ),
    ShareOf(
        "equipment_share",
        "装备制造产业占比 Equipment manufacturing share",
        "一（一）3",
        50.0,
        220.0,
        22.6,
        "装备制造产业实现产值50亿元，占比22.6%",
    ),
    ShareOf(
        "biomed_share",
        "生物医药产业占比 Biomedicine share",
        "一（一）3",
        36.0,
        220.0,
        16.4,
        "生物医药产业……2020年实现产值36亿元，占比16.4%",
    ),
    ShareOf(
        "materials_share",
        "基础和新材料产业占比 Basic and new materials share",
        "一（一）3",
        28.0,
        220.0,
        12.9,
        "基础和新材料产业实现产值28亿元，占比12.9%",
    ),
    ShareOf(
        "tertiary_share_2020",
        "第三产业增加值占GDP比重 Tertiary share of GDP 2020",
        "一（一）1",
        240.7,
        338.6,
        71.1,
        "2020年的338.6亿元……2020年的3.7:25.2:71.1……第三产业实现增加值240.7亿元",
    ),
)

HIGHTECH_MFG_OUTPUT_2020 = Stated(
    63.5, "亿元", "一（一）2", "高精尖制造业企业19家，实现产值63.5亿元"
)
RESEARCH_INSTITUTIONS_2020 = Stated(27.0, "家", "一（一）5", "全市有市级以上研发机构27家33项")
NEW_GREEN_FACTORIES = Stated(6.0, "家", "二（三）", "新增建设6家以上绿色工厂")
PARK_REVENUE_TARGET_YI = Stated(
    1.2, "亿元/公顷", "二（三）", "密云园已建成产业用地每公顷实现收入超过1.2亿元"
)
BAOWO_EXTRA_OUTPUT = Stated(
    60.0,
    "亿元",
    "表2-1注",
    "到2025年可增加工业产值60亿元，即到2025年全区规上工业总产值达到360亿元以上",
)
BAOWO_TOTAL_OUTPUT = Stated(360.0, "亿元", "表2-1注", "即到2025年全区规上工业总产值达到360亿元以上")

# Feature counts of the "3+3+6" layout and of the farmer bases (layer -> stated count).
LAYOUT_COUNTS: dict[str, Stated] = {
    "clusters": Stated(3.0, "个", "四（一）", "夯实三大高精尖产业承载组团"),
    "park_in_park": Stated(3.0, "个", "四（二）", "打造三大高精尖产业“园中园”"),
    "support_nodes": Stated(6.0, "个", "四（三）", "拓展六个高精尖产业承载支点"),
    "farmer_bases": Stated(7.0, "个", "五（六）", "分类推进7个农民就业产业基地转型发展"),
}
# farmer_bases.category value -> stated count
BASE_CATEGORY_COUNTS: dict[str, Stated] = {
    "upgrade": Stated(5.0, "个", "五（六）", "提质升级5个农民就业产业基地"),
    "transform": Stated(1.0, "个", "五（六）", "转型调整1个农民就业产业基地"),
    "exit": Stated(1.0, "个", "五（六）", "逐步退出1个农民就业产业基地"),
}
# zgc_park.expansion_status value -> how many candidates the plan names with that status
EXPANSION_COUNTS: dict[str, Stated] = {
    "included": Stated(
        1.0, "个", "一（二）3", "已将生命与健康科学小镇（150公顷）纳入密云园扩区范围"
    ),
    "proposed": Stated(
        1.0, "个", "一（二）3", "拟将河南寨镇农民就业产业基地（120公顷）纳入密云园扩区范围"
    ),
    "policy_only": Stated(
        3.0,
        "个",
        "一（二）3",
        "科学城产业孵化基地（50公顷）、科学城绿色创新产业园（60公顷）、"
        "穆家峪镇农民就业产业基地（15公顷）虽未纳入密云园扩区范围，但可享受密云园政策",
    ),
}


def _check_against_catalogue() -> None:
    """Fail at import if the catalogue no longer has the layers and values named here."""
    for layer in LAYOUT_COUNTS:
        CATALOGUE[layer]
    for field_layer, field, keys in (
        ("farmer_bases", "category", BASE_CATEGORY_COUNTS),
        ("zgc_park", "expansion_status", EXPANSION_COUNTS),
    ):
        allowed = CATALOGUE[field_layer].field(field).allowed
        missing = set(keys) - set(allowed)
        if missing:
            raise KeyError(f"{field_layer}.{field} has no value(s) {sorted(missing)}")


_check_against_catalogue()
