"""The QGIS 3.22 project document (``.qgs`` XML) for the layers of one GeoPackage.

Written with ``xml.etree`` alone (no QGIS needed). Each layer's ``<maplayer>`` carries the
table's own QML style (the ``layer_styles`` row QGIS would load as default: renderer, labels,
widgets, aliases, constraints), its source relative to the project's file
(``./results.gpkg|layername=clusters``) and its extent. The layer tree holds the groups of
``layers.json``; the drawing order (``custom-order``) puts points over lines over polygons.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from ...core.catalogue import CATALOGUE
from ...core.palette import grade_colors, grade_labels
from ..qgis_styles.qml import _symbol
from ..qgis_styles.values import OTHER_COLOR, QGIS_VERSION
from .layers import GROUPS, SETTINGS, ProjectLayer, Srs, district_extent, render_order

DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
CHECKED = {True: "Qt::Checked", False: "Qt::Unchecked"}
# what a <maplayer> takes from the QML document, beside its own elements
_PALETTES = {"grade": grade_colors, "grade_labels": grade_labels}


def _text(parent: ET.Element, tag: str, text: object, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = str(text)
    return element


def _srs(parent: ET.Element, srs: Srs | None) -> None:
    ref = ET.SubElement(parent, "spatialrefsys")
    if srs is None:
        return
    _text(ref, "wkt", srs.wkt)
    _text(ref, "srid", srs.srs_id)
    _text(ref, "authid", srs.authid)
    _text(ref, "description", srs.description)


def _extent(parent: ET.Element, tag: str, extent: Sequence[float]) -> None:
    element = ET.SubElement(parent, tag)
    for name, value in zip(("xmin", "ymin", "xmax", "ymax"), extent, strict=True):
        _text(element, name, repr(float(value)))


def _parse_qml(qml: str | None) -> ET.Element | None:
    if not qml:
        return None
    body = "\n".join(line for line in qml.splitlines() if not line.startswith("<!DOCTYPE"))
    return ET.fromstring(body)


def _view_renderer(view: dict) -> ET.Element:
    """A categorized renderer on the view's field, coloured from the catalogue's palette."""
    spec = CATALOGUE[view["table"]]
    colors = _PALETTES[view["palette"]]()
    labels = _PALETTES[view["labels"]]() if view.get("labels") else {}
    renderer = ET.Element(
        "renderer-v2",
        type="categorizedSymbol",
        attr=view["field"],
        forceraster="0",
        symbollevels="0",
        enableorderby="0",
    )
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (value, color) in enumerate(colors.items()):
        ET.SubElement(
            categories,
            "category",
            value=value,
            label=labels.get(value, value),
            symbol=str(i),
            render="true",
        )
        _symbol(symbols, str(i), spec, color, dashed_unless=None)
    source = ET.SubElement(renderer, "source-symbol")
    _symbol(source, "0", spec, OTHER_COLOR, dashed_unless=None)
    return renderer


def _maplayer(parent: ET.Element, entry: ProjectLayer, file_name: str) -> None:
    style = _parse_qml(entry.qml)
    labels = "0" if style is None or entry.view else style.get("labelsEnabled", "0")
    layer = ET.SubElement(
        parent,
        "maplayer",
        type="vector",
        geometry=entry.geometry,
        labelsEnabled=labels,
        styleCategories="AllStyleCategories",
        hasScaleBasedVisibilityFlag="0",
        minScale="100000000",
        maxScale="0",
        readOnly="0",
        autoRefreshEnabled="0",
        autoRefreshTime="0",
        simplifyDrawingHints="1",
        simplifyLocal="1",
        simplifyDrawingTol="1",
        simplifyAlgorithm="0",
        simplifyMaxScale="1",
    )
    if entry.extent:
        _extent(layer, "extent", entry.extent)
    _text(layer, "id", entry.id)
    _text(layer, "datasource", f"./{file_name}|layername={entry.table}")
    _text(ET.SubElement(layer, "keywordList"), "value", "")
    _text(layer, "layername", entry.title)
    _srs(ET.SubElement(layer, "srs"), entry.srs)
    _text(layer, "provider", "ogr", encoding="UTF-8")
    manager = ET.SubElement(layer, "map-layer-style-manager", current="default")
    ET.SubElement(manager, "map-layer-style", name="default")
    if style is not None:
        for child in style:
            if entry.view and child.tag == "labeling":
                continue
            if entry.view and child.tag == "renderer-v2":
                child = _view_renderer(entry.view)
            layer.append(child)
    _text(layer, "blendMode", 0)
    _text(layer, "featureBlendMode", 0)
    _text(layer, "layerOpacity", 1)


def _tree(root: ET.Element, layers: list[ProjectLayer], file_name: str) -> None:
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(ET.SubElement(tree, "customproperties"), "Option")
    for key, label in GROUPS.items():
        members = [e for e in layers if e.group == key]
        if not members:
            continue
        group = ET.SubElement(
            tree, "layer-tree-group", name=label, checked=CHECKED[True], expanded="1"
        )
        ET.SubElement(ET.SubElement(group, "customproperties"), "Option")
        for entry in members:
            node = ET.SubElement(
                group,
                "layer-tree-layer",
                id=entry.id,
                name=entry.title,
                source=f"./{file_name}|layername={entry.table}",
                providerKey="ogr",
                checked=CHECKED[entry.visible],
                expanded="0",
                legend_exp="",
            )
            ET.SubElement(ET.SubElement(node, "customproperties"), "Option")
    order = ET.SubElement(tree, "custom-order", enabled="1")
    for entry in render_order(layers):
        _text(order, "item", entry.id)


def _properties(root: ET.Element) -> None:
    properties = ET.SubElement(root, "properties")
    paths = ET.SubElement(properties, "Paths")
    _text(paths, "Absolute", "false", type="bool")
    units = ET.SubElement(properties, "Measurement")
    _text(units, "DistanceUnits", "meters", type="QString")
    _text(units, "AreaUnits", "ha", type="QString")
    srs = ET.SubElement(properties, "SpatialRefSys")  # QGIS reads <projectCrs> only with this
    _text(srs, "ProjectionsEnabled", 1, type="int")


def _view(root: ET.Element, extent: Sequence[float] | None, srs: Srs | None) -> None:
    canvas = ET.SubElement(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    _text(canvas, "units", "meters")
    if extent:
        _extent(canvas, "extent", extent)
    _text(canvas, "rotation", 0)
    _srs(ET.SubElement(canvas, "destinationsrs"), srs)
    _text(canvas, "rendermaptile", 0)
    settings = ET.SubElement(root, "ProjectViewSettings", UseProjectScales="0", rotation="0")
    ET.SubElement(settings, "Scales")
    if extent:
        xmin, ymin, xmax, ymax = (repr(float(v)) for v in extent)
        default = ET.SubElement(
            settings, "DefaultViewExtent", xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax
        )
        _srs(default, srs)


def project_xml(layers: list[ProjectLayer], file_name: str, *, saved: str) -> str:
    """The ``.qgs`` document showing ``layers`` of the GeoPackage ``file_name`` (sources
    relative to the folder of the project, i.e. the GeoPackage's own for a stored project).

    ``saved``: the save time (ISO 8601) QGIS shows in the project's properties.
    """
    srs = next((e.srs for e in layers if e.srs is not None), None)
    root = ET.Element(
        "qgis",
        projectname=SETTINGS["title"],
        version=QGIS_VERSION,
        saveUser="miyun-spatial",
        saveUserFull="miyun-spatial",
        saveDateTime=saved,
    )
    ET.SubElement(root, "homePath", path="")
    _text(root, "title", SETTINGS["title"])
    _srs(ET.SubElement(root, "projectCrs"), srs)
    _tree(root, layers, file_name)
    projectlayers = ET.SubElement(root, "projectlayers")
    for entry in layers:
        _maplayer(projectlayers, entry, file_name)
    order = ET.SubElement(root, "layerorder")
    for entry in render_order(layers):
        ET.SubElement(order, "layer", id=entry.id)
    _properties(root)
    _view(root, district_extent(layers), srs)
    metadata = ET.SubElement(root, "projectMetadata")
    _text(metadata, "title", SETTINGS["title"])
    _text(metadata, "abstract", SETTINGS["abstract"])
    _text(metadata, "author", "miyun-spatial")
    _text(metadata, "creation", saved)
    return DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"
