"""Real QGIS opens an imported GeoPackage: every layer valid and styled, the source fields shown."""

from __future__ import annotations

import pytest
from import_fixtures import SURVEY_CODES, grid_parcels, survey_shapefile
from test_qgis_real import (
    check_styled,
    feature_counts,
    qgis,  # noqa: F401  (the fixture running QGIS's Python)
)

pytestmark = pytest.mark.qgis


def test_qgis_opens_an_imported_survey_styled_and_without_warnings(qgis, tmp_path, cli):  # noqa: F811
    shp = survey_shapefile(tmp_path / "delivery", grid_parcels(SURVEY_CODES, n=4))
    out = tmp_path / "imported.gpkg"
    result = cli("import", shp, "--layer", "land_parcels", "--out", out)
    assert result.returncode == 0, result.stdout + result.stderr
    [report] = qgis("inspect_layers.py", out)
    check_styled(report, feature_counts(out))
    aliases = report["layers"]["land_parcels"]["aliases"]
    assert aliases["source_code"].startswith("原地类编码")
    assert aliases["source_name"].startswith("原地类名称")
