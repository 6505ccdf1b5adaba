"""Scenarios: a scenario's figures equal a plain run of the GeoPackage edited the same way by
hand; bad edits give one-line errors and a non-zero exit."""

from __future__ import annotations

import math

import gpkg_edit
import numpy as np
import pandas as pd
import pytest
import shapely

from miyun_spatial.analysis.run import load_and_analyse, load_checked
from miyun_spatial.analysis.scenarios import run_scenarios
from miyun_spatial.io.scenario_file import read_scenario_file

RTOL = 1e-9


def _edits(plan_gpkg):
    """The edits of the test scenario: attribute edits, a zone outline and a parcel outline."""
    zgc = gpkg_edit.read(plan_gpkg, "zgc_park").set_index("code")
    parcels = gpkg_edit.read(plan_gpkg, "land_parcels").set_index("parcel_code")
    park = shapely.union_all([zgc.geometry["Z1"], zgc.geometry["Z3"]])
    shrunk = parcels.geometry["C2-010"].buffer(-4.0)
    return {
        "park": shapely.to_wkt(park, rounding_precision=-1),
        "parcel": shapely.to_wkt(shrunk, rounding_precision=-1),
    }


def _write_scenario(path, code: str, name: str, edits) -> None:
    """A TOML scenario file of one scenario; ``edits``: (layer, feature, field, value), the
    value of a ``geometry`` edit being WKT."""
    lines = [
        "[[scenarios]]",
        f'scenario_code = "{code}"',
        f'name = "{name}"',
        'provenance = "user"',
    ]
    for layer, feature, field, value in edits:
        key = "geometry_wkt" if field == "geometry" else "value"
        lines += ["[[scenarios.edits]]", f'layer = "{layer}"', f'feature_code = "{feature}"',
                  f'field = "{field}"', f'{key} = "{value}"']  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _scenario_toml(path, wkt) -> None:
    _write_scenario(
        path,
        "S1",
        "B7 提质升级, Z3 纳入",
        [
            ("farmer_bases", "B7", "category", "upgrade"),
            ("land_parcels", "B7-01", "planned_use", "M1"),
            ("land_parcels", "B7-03", "planned_use", "M1"),
            ("zgc_park", "Z3", "expansion_status", "included"),
            ("zgc_park", "Z1", "geometry", wkt["park"]),
            ("land_parcels", "C2-010", "geometry", wkt["parcel"]),
            ("land_facts", "F12", "value", "15000"),
        ],
    )


def _edit_by_hand(path, wkt) -> None:
    """The same edits, made on the GeoPackage with GDAL (pyogrio), as a GIS user would."""
    gpkg_edit.set_value(path, "farmer_bases", "code", "B7", "category", "upgrade")
    for code in ("B7-01", "B7-03"):
        gpkg_edit.set_value(path, "land_parcels", "parcel_code", code, "planned_use", "M1")
    gpkg_edit.set_value(path, "zgc_park", "code", "Z3", "expansion_status", "included")
    gpkg_edit.set_geometry(path, "zgc_park", "Z1", shapely.from_wkt(wkt["park"]))
    parcels = gpkg_edit.read(path, "land_parcels")
    parcels.loc[parcels["parcel_code"] == "C2-010", "geometry"] = shapely.from_wkt(wkt["parcel"])
    gpkg_edit.overwrite(path, "land_parcels", parcels)
    gpkg_edit.sql(path, "UPDATE land_facts SET value = 15000.0 WHERE fact_code = 'F12'")


@pytest.fixture(scope="module")
def edited(tmp_path_factory, default_gpkg):
    """(base copy, the scenario file, the copy edited by hand)."""
    import shutil

    root = tmp_path_factory.mktemp("scenarios")
    base = root / "base.gpkg"
    shutil.copyfile(default_gpkg, base)
    wkt = _edits(base)
    toml = root / "s.toml"
    _scenario_toml(toml, wkt)
    by_hand = root / "by_hand.gpkg"
    shutil.copyfile(default_gpkg, by_hand)
    _edit_by_hand(by_hand, wkt)
    return base, toml, by_hand


def _close(a: float, b: float) -> bool:
    if (a is None or math.isnan(a)) and (b is None or math.isnan(b)):
        return True
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-9)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Text and categorical columns as object (a scenario keeps the reader's string dtypes)."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]) or out[column].dtype == bool:
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out


@pytest.mark.slow
def _assert_tables_equal(got, want, names) -> None:
    """The tables ``names`` of two runs equal to RTOL (text and categoricals as object)."""
    for name in names:
        pd.testing.assert_frame_equal(
            _plain(got.tables[name]),
            _plain(want.tables[name]),
            check_exact=False,
            rtol=RTOL,
            check_dtype=False,
            check_categorical=False,
            obj=name,
        )


def test_scenario_tables_equal_a_plain_run_of_the_hand_edited_file(edited):
    base, toml, by_hand = edited
    plan, findings = load_checked(base)
    run = run_scenarios(plan, findings, read_scenario_file(toml))
    ((_scenario, got),) = run.scenarios
    want = load_and_analyse(by_hand, checks=False)
    pd.testing.assert_frame_equal(
        got.areas.drop(columns=["category"]),
        want.areas.drop(columns=["category"]),
        check_exact=False,
        rtol=RTOL,
        check_dtype=False,
    )
    assert got.areas["category"].fillna("").tolist() == want.areas["category"].fillna("").tolist()
    _assert_tables_equal(got, want, ("mix", "mix_indices", "zone_yields", "parcel_yields",
                         "transitions", "changing_parcels", "adjustment_totals",
                         "base_land_changes", "control_line_conflicts", "control_line_summary",
                         "baselines"))  # fmt: skip
    # and the base is untouched by the scenario
    plain = load_and_analyse(base, checks=False)
    pd.testing.assert_frame_equal(run.base.tables["mix"], plain.tables["mix"])


@pytest.mark.slow
def test_scenarios_csv_equals_independent_figures_of_the_hand_edited_file(edited, cli, tmp_path):
    base, toml, by_hand = edited
    out = tmp_path / "out"
    result = cli("scenarios", base, "--scenarios", toml, "--out", out, "--no-maps")
    assert result.returncode == 0, result.stderr
    matrix = pd.read_csv(out / "scenarios.csv", encoding="utf-8-sig", index_col="key")
    # independent figures, from the hand-edited file with shapely and pandas
    parcels = gpkg_edit.read(by_hand, "land_parcels")
    area_ha = shapely.area(np.asarray(parcels.geometry.values)) / 1e4
    planned_m1 = area_ha[(parcels["planned_use"] == "M1").to_numpy()].sum()
    assert _close(matrix.loc["parcel_area/planned/M1", "S1"], planned_m1)
    zgc = gpkg_edit.read(by_hand, "zgc_park").set_index("code")
    assert _close(matrix.loc["park_area/Z1", "S1"], zgc.geometry["Z1"].area / 1e4)
    base_zgc = gpkg_edit.read(base, "zgc_park").set_index("code")
    assert _close(
        matrix.loc["park_area/Z1", "S1 Δ"],
        (zgc.geometry["Z1"].area - base_zgc.geometry["Z1"].area) / 1e4,
    )
    # the park's planned M1 land: parcels cut by the new outline, in shapely directly
    park = zgc.geometry["Z1"]
    inside = shapely.area(shapely.intersection(np.asarray(parcels.geometry.values), park)) / 1e4
    m1 = (parcels["planned_use"] == "M1").to_numpy()
    assert _close(matrix.loc["park_area/planned/M1", "S1"], inside[m1].sum())
    # the base column is the base data's
    base_parcels = gpkg_edit.read(base, "land_parcels")
    base_area = shapely.area(np.asarray(base_parcels.geometry.values)) / 1e4
    assert _close(
        matrix.loc["parcel_area/planned/M1", "base"],
        base_area[(base_parcels["planned_use"] == "M1").to_numpy()].sum(),
    )
    # categories: counted from the file
    bases = gpkg_edit.read(by_hand, "farmer_bases")
    assert (
        matrix.loc["category/farmer_bases/upgrade", "S1"] == (bases["category"] == "upgrade").sum()
    )
    assert matrix.loc["category/farmer_bases/exit", "S1 Δ"] == -1
    # the park's yields against the edited target: revenue per ha / 15000
    plain = load_and_analyse(by_hand, checks=False).tables["zone_yields"].loc[("zgc_park", "Z1")]
    assert _close(matrix.loc["yield/revenue_per_ha", "S1"], plain["revenue_per_ha"])
    assert _close(matrix.loc["yield/pct_of_target", "S1"], 100 * plain["revenue_per_ha"] / 15000)
    mix = load_and_analyse(by_hand, checks=False).tables["mix_indices"]
    assert _close(
        matrix.loc["mix/clusters/C2/adjusted/entropy", "S1"],
        mix.loc[("clusters", "C2", "adjusted"), "entropy"],
    )


BAD_EDITS = [
    (
        'layer = "farmer_base"\nfeature_code = "B7"\nfield = "category"\nvalue = "upgrade"',
        "unknown layer",
    ),
    (
        'layer = "farmer_bases"\nfeature_code = "B9"\nfield = "category"\nvalue = "upgrade"',
        "unknown feature",
    ),
    (
        'layer = "farmer_bases"\nfeature_code = "B7"\nfield = "categry"\nvalue = "upgrade"',
        "unknown field",
    ),
    (
        'layer = "farmer_bases"\nfeature_code = "B7"\nfield = "category"\nvalue = "upgarde"',
        "unknown value",
    ),
    (
        'layer = "land_parcels"\nfeature_code = "B7-01"\nfield = "planned_use"\nvalue = "M9"',
        "land_use_classes.code",
    ),
    (
        'layer = "land_facts"\nfeature_code = "F12"\nfield = "value"\nvalue = "lots"',
        "give a number",
    ),
    (
        'layer = "zgc_park"\nfeature_code = "Z1"\nfield = "geometry"\ngeometry_wkt = "POLYGON((1 2, 3"',
        "unreadable",
    ),
    (
        'layer = "zgc_park"\nfeature_code = "Z1"\nfield = "geometry"\n'
        'geometry_wkt = "POLYGON((500000 4480000, 501000 4481000, 501000 4480000, 500000 4481000, 500000 4480000))"',
        "invalid outline",
    ),
]


@pytest.mark.parametrize(("edit", "expected"), BAD_EDITS)
def test_bad_edit_gives_one_line_error(edit, expected, cli, tmp_path, default_gpkg):
    toml = tmp_path / "bad.toml"
    toml.write_text(
        f'[[scenarios]]\nscenario_code = "W1"\nname = "what if"\nprovenance = "user"\n'
        f'[[scenarios.edits]]\nedit_code = "E7"\n{edit}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = cli("scenarios", default_gpkg, "--scenarios", toml, "--out", out, "--no-maps")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "scenario 'W1' edit 'E7'" in lines[0] and expected in lines[0] and "fix:" in lines[0]
    assert not (out / "scenarios.csv").exists()


def test_unknown_scenario_name_and_orphan_edits(cli, tmp_path, gpkg_copy):
    result = cli("scenarios", gpkg_copy, "--scenario", "NOPE", "--out", tmp_path / "o", "--no-maps")
    assert result.returncode == 1 and "no scenario 'NOPE'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    gpkg_edit.sql(
        gpkg_copy,
        "INSERT INTO scenario_edits (scenario_code, edit_code, layer, feature_code, field, value) "
        "VALUES ('S404', 'E1', 'farmer_bases', 'B7', 'category', 'upgrade')",
    )
    result = cli("scenarios", gpkg_copy, "--out", tmp_path / "o", "--no-maps")
    assert result.returncode == 1
    assert "unknown scenario 'S404'" in result.stderr and "fix:" in result.stderr
    # the base still validates (a bad what-if is a warning there)
    assert cli("validate", gpkg_copy).returncode == 0


def test_scenario_named_like_a_matrix_column_is_refused(cli, tmp_path, default_gpkg):
    toml = tmp_path / "base.toml"
    toml.write_text('[[scenarios]]\nscenario_code = "base"\nname = "x"\nprovenance = "user"\n')
    result = cli("scenarios", default_gpkg, "--scenarios", toml, "--out", tmp_path / "o")
    assert result.returncode == 1 and "scenario 'base'" in result.stderr and "fix:" in result.stderr


def test_bad_toml_is_one_line(cli, tmp_path, default_gpkg):
    toml = tmp_path / "broken.toml"
    toml.write_text("[[scenarios]\nname = 1\n", encoding="utf-8")
    result = cli("scenarios", default_gpkg, "--scenarios", toml, "--out", tmp_path / "o")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "not valid TOML" in result.stderr


def test_validation_reuses_only_the_layers_it_checked_before(default_plan):
    from miyun_spatial.validate.layers import validate

    known: dict = {}
    assert validate(default_plan, known=known) == validate(default_plan)
    bases = default_plan["farmer_bases"].copy()
    bases.loc[bases["code"] == "B7", "category"] = "bogus"
    edited = default_plan.replace(farmer_bases=bases)
    again = validate(edited, known=known)
    assert again == validate(edited)
    assert any(f.check == "unknown_value" and f.code == "B7" for f in again)
    # field by field: an unchanged clean field is not checked again, a changed one is, also
    # when only its values moved between features or its markup is new
    parcels = default_plan["land_parcels"].copy()
    first, second = parcels.index[:2]
    parcels.loc[first, "enterprise"] = "<script>alert(1)</script>"
    parcels.loc[[first, second], "status"] = ["bogus", None]
    edited = default_plan.replace(land_parcels=parcels)
    again = validate(edited, known=known)
    assert again == validate(edited)
    checks = {(f.check, f.fid) for f in again if f.layer == "land_parcels"}
    assert {("markup_in_text", first), ("unknown_value", first)} <= checks
    assert validate(default_plan, known=known) == validate(default_plan)


@pytest.mark.parametrize("kind", ["attributes", "attributes+outline", "attributes+parcel uses"])
def test_a_scenario_reusing_base_parts_equals_the_hand_edited_file(kind, tmp_path, default_gpkg):
    """Attribute edits (and one zone outline): the base's overlays and tables are reused where
    their inputs are equal (``metrics.reuse``: with no outline changed, the control-line
    analysis as a whole); every table still equals a plain run of the file edited by hand."""
    import shutil

    base, by_hand = tmp_path / "base.gpkg", tmp_path / "by_hand.gpkg"
    shutil.copyfile(default_gpkg, base)
    shutil.copyfile(default_gpkg, by_hand)
    edits = [
        ("farmer_bases", "B5", "category", "transform"),
        ("land_facts", "F15", "value", "13000"),
    ]
    gpkg_edit.set_value(by_hand, "farmer_bases", "code", "B5", "category", "transform")
    gpkg_edit.sql(by_hand, "UPDATE land_facts SET value = 13000.0 WHERE fact_code = 'F15'")
    if kind.endswith("parcel uses"):  # the parcels of B7, changed, in the control lines
        for code in ("B7-01", "B7-02", "B7-03"):
            edits.append(("land_parcels", code, "planned_use", "M1"))
            gpkg_edit.set_value(by_hand, "land_parcels", "parcel_code", code, "planned_use", "M1")
    if kind.endswith("outline"):
        bases = gpkg_edit.read(base, "farmer_bases").set_index("code")
        wkt = shapely.to_wkt(bases.geometry["B1"].buffer(50), rounding_precision=-1)
        edits.append(("farmer_bases", "B1", "geometry", wkt))
        gpkg_edit.set_geometry(by_hand, "farmer_bases", "B1", shapely.from_wkt(wkt))
    toml = tmp_path / "s.toml"
    _write_scenario(toml, "S2", "B5 转型调整, B1 扩大", edits)
    plan, findings = load_checked(base)
    run = run_scenarios(plan, findings, read_scenario_file(toml))
    ((_scenario, got),) = run.scenarios
    want = load_and_analyse(by_hand, checks=False)
    assert not want.tables["control_line_conflicts"].empty  # the default data has control lines
    if kind.endswith("parcel uses"):  # the edit changes what the control lines find
        before = run.base.tables["control_line_conflicts"]
        assert not before.equals(want.tables["control_line_conflicts"])
    assert set(got.tables) == set(want.tables)
    _assert_tables_equal(got, want, sorted(want.tables))
    layer = "control_line_conflicts"
    assert (
        got.work[layer].drop(columns="geometry").equals(want.work[layer].drop(columns="geometry"))
    )
