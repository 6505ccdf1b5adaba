"""Chinese for the notes (备注) the default data write in English, clause by clause.

The notes of the default GeoPackage are generated from a few sentence patterns (how an outline
was digitized, what its area was calibrated to, which features share a site...). Popups show
the Chinese rendering of every clause that matches a pattern, then the original English; a
clause with no pattern (free text typed in QGIS) stays in the English line only.
"""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u4e00-\u9fff]")
_PLACE_NAMES = re.compile(r"[\u4e00-\u9fff0-9]+(?:\s*(?:/|\s+x\s+)\s*[\u4e00-\u9fff0-9]+)*")
_BASIS = {"stated": "规划明确", "assumed": "假定", "external_report": "外部报告"}


def _near(match: re.Match) -> str:
    # English asides in brackets stay in the English line
    place = re.sub(r"\s*\([^)]*[A-Za-z][^)]*\)", "", match.group(1)).strip()
    # only the Chinese names: English words after them ('河南寨镇 riverside next to ...')
    # stay in the English line, so that the Chinese sentence has no English in it
    names = _PLACE_NAMES.match(place)
    place = re.sub(r"\s*/\s*", "、", re.sub(r"\s+x\s+", "与", names.group(0))) if names else ""
    where = f"，位于{place}附近" if place else ""
    return f"示意轮廓，据规划文本数字化{where}"


def _area(match: re.Match) -> str:
    basis = _BASIS.get(match.group(2), match.group(2))
    return f"面积按 {match.group(1)} 公顷校准（{basis}）"


PATTERNS: tuple[tuple[re.Pattern, object], ...] = tuple(
    (re.compile(p, re.IGNORECASE), r)
    for p, r in (
        (r"^schematic outline digitized from the plan text near (.+?)(?::.*)?$", _near),
        (r"^schematic position in the development zone$", "示意位置（开发区内）"),
        (r"^area calibrated to ([\d.,]+) ha \((\w+)\)$", _area),
        (r"^same site as (\S+)$", r"与 \1 同址"),
        (r"^same outline as (\S+)$", r"与 \1 轮廓相同"),
        (r"^address: (.+)$", r"地址：\1"),
        (
            r"^schematic: drawn on synthetic parcel (\S+) of the stated land area$",
            r"示意：按所述用地面积绘于合成地块 \1",
        ),
        (r"^exit: becomes strategic reserve land$", "逐步退出：转为战略留白用地"),
        (r"^all of it planned as urban construction land$", "全部规划为城镇建设用地"),
        (r"^not in the plan$", "规划未载"),
        (r"^not digitized$", "未数字化"),
        (r"^may overlap (\S+)$", r"可能与 \1 重叠"),
        (
            r"^the plan also mentions a ([\d.]+) km2 policy extent$",
            r"规划另提及 \1 平方公里政策范围",
        ),
        (
            r"^together with (\S+) it forms the Miyun park's planned ([\d.]+) ha$",
            r"与 \1 共同构成密云园规划的 \2 公顷",
        ),
    )
)


def notes_zh(text: str) -> str:
    """The Chinese of every recognised clause of ``text`` ('; '-separated), '' if none.

    Clauses with no pattern are marked '…' (they are in the English original shown below).
    """
    parts, skipped = [], False
    for clause in (c.strip() for c in str(text).split(";")):
        if not clause:
            continue
        if _CJK.search(clause) and not re.search(r"[A-Za-z]{3}", clause):
            parts.append(clause)  # already Chinese
            continue
        for pattern, replacement in PATTERNS:
            match = pattern.match(clause)
            if match:
                parts.append(
                    replacement(match) if callable(replacement) else match.expand(replacement)
                )
                break
        else:
            skipped = True
    if not parts:
        return ""
    return "；".join(parts) + ("；…" if skipped else "")
