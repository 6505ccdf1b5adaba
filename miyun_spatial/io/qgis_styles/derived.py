"""Layer specs of the layers the results add to ``results.gpkg`` (not catalogue layers, never
read from a source), so that they are styled like the catalogue's: ``control_line_conflicts``,
the overlap pieces of changing parcels and control lines, coloured by verdict with the
catalogue palette ``control_verdict`` (red = conflict)."""

from __future__ import annotations

from types import MappingProxyType

from ...core.catalogue import CATALOGUE, AllowedValue, FieldSpec, LayerSpec

_LINES = CATALOGUE["control_lines"]
_COLORS = CATALOGUE.palettes["control_verdict"]
_LABELS = CATALOGUE.palettes["control_verdict_labels"]


def _verdicts() -> tuple[AllowedValue, ...]:
    return tuple(
        AllowedValue(v, _LABELS[v].split(" ", 1)[0], _LABELS[v].split(" ", 1)[1], _COLORS[v])
        for v in ("conflict", "conditional", "compliant")
    )


CONTROL_LINE_CONFLICTS = LayerSpec(
    name="control_line_conflicts",
    role="controls",
    geometry="polygon",
    id_field="parcel_code",
    title_zh="管控线冲突图斑",
    title_en="Control-line overlaps of changing parcels",
    description="Pieces of parcels whose use changes inside (or, for construction, outside the "
    "urban boundary of) a control line, with the rule and verdict (control_line_conflicts.csv).",
    fields=(
        FieldSpec("parcel_code", "text", label_zh="地块编码", label_en="Parcel code"),
        _LINES.field("line_code"),
        _LINES.field("line_type"),
        FieldSpec("line_name", "text", label_zh="管控线名称", label_en="Line name"),
        _LINES.field("grade"),
        FieldSpec("current_use", "text", label_zh="现状用地", label_en="Current use"),
        FieldSpec("planned_use", "text", label_zh="规划（调整后）用地", label_en="Planned use"),
        FieldSpec("overlap_ha", "real", unit="ha", label_zh="重叠面积", label_en="Overlap"),
        FieldSpec("overlap_mu", "real", unit="亩", label_zh="重叠面积", label_en="Overlap"),
        FieldSpec("rule", "text", label_zh="规则", label_en="Rule"),
        FieldSpec("verdict", "text", label_zh="结论", label_en="Verdict", values=_verdicts()),
    ),
    style=MappingProxyType(
        {"color": "#d7191c", "fill": "#d7191c", "fill_opacity": 0.5, "weight": 1,
         "category_field": "verdict"}
    ),
)  # fmt: skip
DERIVED = {CONTROL_LINE_CONFLICTS.name: CONTROL_LINE_CONFLICTS}


def styled_spec(name: str) -> LayerSpec | None:
    """The spec a table of this name is styled with: the catalogue's, or a derived layer's."""
    return CATALOGUE.get(name) or DERIVED.get(name)
