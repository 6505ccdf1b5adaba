"""The import report: what was read, decided, mapped, repaired and written (text and JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

MAX_FINDINGS = 20  # validation findings listed in the text report


@dataclass
class ImportReport:
    source: str
    source_layer: str = ""
    driver: str = ""
    layer: str = ""
    base: str = ""
    out: str | None = None
    dry_run: bool = False
    features_read: int = 0
    features_written: int = 0
    encoding: str | None = None
    crs: list[str] = field(default_factory=list)
    fields: dict[str, dict] = field(default_factory=dict)
    filled: list[str] = field(default_factory=list)
    unused_fields: list[str] = field(default_factory=list)
    kept_extra: bool = False
    classification: str | None = None
    classification_title: str | None = None
    classification_how: str | None = None
    classifications: dict[str, dict] = field(default_factory=dict)  # per class field
    crosswalk: list[dict] = field(default_factory=list)
    ambiguous: list[dict] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)
    geometry: list[str] = field(default_factory=list)
    area_check: dict | None = None
    warnings: list[str] = field(default_factory=list)
    validation: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def valid(self) -> bool:
        return not self.validation.get("error")


def _line(label: str, value) -> str:
    return f"  {label:<22} {value}"


def render_text(report: ImportReport) -> str:
    """The report for the terminal: Chinese labels first, English alongside."""
    r = report
    lines = [f"导入 import: {r.source} [{r.source_layer}, {r.driver}] -> layer {r.layer}"]
    lines.append(_line("要素 features", f"{r.features_read} read, {r.features_written} written"))
    if r.encoding:
        lines.append(_line("编码 encoding", r.encoding))
    for note in r.crs:
        lines.append(_line("坐标 CRS", note))
    for note in r.geometry:
        lines.append(_line("几何 geometry", note))
    lines.append("  字段 fields:")
    for target, how in r.fields.items():
        lines.append(f"    {target:<24} <- {how['source']} ({how['how']})")
    for note in r.filled:
        lines.append(f"    filled: {note}")
    if r.unused_fields:
        verb = "kept (--keep-extra)" if r.kept_extra else "not imported (--keep-extra keeps them)"
        lines.append(f"    source fields {verb}: {', '.join(r.unused_fields)}")
    if r.classification:
        lines.append(
            f"  分类 classification: {r.classification} = {r.classification_title} "
            f"({r.classification_how})"
        )
        for target, c in r.classifications.items():
            if c["classification"] != r.classification or c["how"] != r.classification_how:
                lines.append(
                    f"    {target} <- {c['source']}: {c['classification']} = {c['title']} "
                    f"({c['how']})"
                )
        lines.append(f"    {'code':<8} {'name':<16} {'class':<6} {'features':>8} {'ha':>12}")
        for row in r.crosswalk:
            flag = " *" if row["ambiguous"] and not row["overridden"] else ""
            flag = " (--mapping)" if row["overridden"] else flag
            lines.append(
                f"    {row['code']:<8} {str(row['name_zh'])[:16]:<16} {row['plan_class']:<6} "
                f"{row['features']:>8} {row['area_ha']:>12,.2f}{flag}"
            )
        for row in r.ambiguous:
            lines.append(
                f"    * ambiguous: {row['code']} {row['name_zh']} -> {row['plan_class']} by default, "
                f"{row['area_ha']:,.2f} ha in {row['features']} features ({row['note']}); "
                "override in a --mapping file"
            )
    if r.area_check:
        a = r.area_check
        lines.append(
            f"  面积 stated area ({a['field']}): {a['stated_ha']:,.2f} ha stated, "
            f"{a['computed_ha']:,.2f} ha computed in EPSG:4548; {a['over']} features differ by "
            f"more than {a['threshold_pct']:g}%"
            + (f" (features {', '.join(map(str, a['listed']))})" if a["listed"] else "")
        )
    for note in r.warnings:
        lines.append(f"  注意 warning: {note}")
    v = r.validation
    if v:
        lines.append(
            f"  校验 validate: {v['error']} errors, {v['warning']} warnings, {v['info']} notes"
        )
        shown = [f for f in v.get("findings", []) if f["level"] in ("error", "warning")]
        for finding in shown[:MAX_FINDINGS]:
            where = str(finding["layer"])
            if finding.get("fid") is not None:
                where += f" fid {int(finding['fid'])}"
            if finding.get("code"):
                where += f" ({finding['code']})"
            lines.append(
                f"    {finding['level']}: {where}: {finding['message']} ({finding['hint']})"
            )
        if len(shown) > MAX_FINDINGS:
            lines.append(f"    ... and {len(shown) - MAX_FINDINGS} more (--json lists them all)")
    verdict = "" if r.valid else " — it does NOT validate: fix the errors above"
    if r.dry_run:
        lines.append(f"  dry run: nothing written ({r.seconds:.1f} s){verdict}")
    else:
        lines.append(f"  wrote {r.out} ({r.seconds:.1f} s){verdict}")
    return "\n".join(lines)
