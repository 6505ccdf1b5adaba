"""One colour meaning per map: red is for exit and conflict only, 在建 is not red, every class
colour is documented in ``palettes.meanings``, reserve land (LB) is tinted and hatched, and the
static base figures outline a base in its category's colour.

Expectations are read from catalogue.json and the GeoPackage as files, and from the PNGs'
pixels (Pillow), not from the renderer's code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from PIL import Image

CATALOGUE = json.loads(
    (Path(__file__).parents[1] / "miyun_spatial/core/catalogue.json").read_text(encoding="utf-8")
)
PALETTES = CATALOGUE["palettes"]


def _value_colours() -> dict[tuple[str, str, str], str]:
    """(layer, field, value) -> colour of every allowed value that has one."""
    out = {}
    for layer in CATALOGUE["layers"]:
        for f in layer.get("fields", []):
            for v in f.get("values", []):
                if v.get("color"):
                    out[(layer["name"], f["name"], v["value"])] = v["color"].lower()
    return out


def _is_red(hex_colour: str) -> bool:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return r > 180 and g < 80 and b < 80  # a red by its channels, not by a list


def test_red_means_exit_or_conflict_only():
    reds = {key: c for key, c in _value_colours().items() if _is_red(c)}
    assert reds == {("farmer_bases", "category", "exit"): "#d73027"}, reds
    grades = {k: v.lower() for k, v in PALETTES["grade"].items()}
    assert [k for k, c in grades.items() if _is_red(c)] == ["D"]  # 低效: below the target
    assert _is_red(PALETTES["target_ratio"][0])  # far below target
    assert not any(_is_red(c) for c in PALETTES["target_ratio"][1:])


def test_under_construction_is_one_colour_and_not_red():
    colours = {
        c for (layer, field, value), c in _value_colours().items() if value == "under_construction"
    }
    assert len(colours) == 1 and not _is_red(next(iter(colours))), colours


def test_every_class_colour_has_a_documented_meaning():
    meanings = {k.lower(): v for k, v in PALETTES["meanings"].items()}
    used = set(_value_colours().values()) | {c.lower() for c in PALETTES["grade"].values()}
    used |= {c.lower() for c in PALETTES["target_ratio"]}
    missing = used - set(meanings)
    assert not missing, f"colours without a meaning: {sorted(missing)}"
    for colour, meaning in meanings.items():
        assert meaning["zh"] and meaning["en"], colour
        if _is_red(colour):
            assert "退出" in meaning["zh"] or "冲突" in meaning["zh"], meaning


def test_reserve_land_is_tinted_not_white(default_gpkg):
    classes = pyogrio.read_dataframe(default_gpkg, layer="land_use_classes", read_geometry=False)
    reserve = classes[classes["group"] == "reserve"]
    assert list(reserve["code"]) == ["LB"]
    colour = reserve["color_hex"].iloc[0]
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    assert min(rgb) < 235 and max(rgb) - min(rgb) > 10, colour  # a tint, not white or grey
    assert PALETTES["hatched_land_use_groups"] == ["reserve"]


def _pixels_near(path: Path, hex_colour: str, tolerance: int = 40) -> int:
    image = np.asarray(Image.open(path).convert("RGB")).astype(int)
    target = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(image - target).sum(axis=2) <= tolerance).sum())


@pytest.mark.parametrize(("code", "category"), [("B1", "upgrade"), ("B7", "exit")])
def test_static_base_figure_outlines_the_base_in_its_category_colour(
    built_default, default_gpkg, code, category
):
    bases = pyogrio.read_dataframe(default_gpkg, layer="farmer_bases", read_geometry=False)
    assert bases.set_index("code").loc[code, "category"] == category
    colours = {v: c for (layer, _f, v), c in _value_colours().items() if layer == "farmer_bases"}
    png = built_default / "static" / f"base_{code}.png"
    own = _pixels_near(png, colours[category])
    red = _pixels_near(png, colours["exit"])
    assert own > 200, f"{code}: too few pixels of its category colour ({own})"
    if category != "exit":
        assert red < 20, f"{code} ({category}) is drawn in the exit red ({red} pixels)"
