"""Open the QGIS project stored in a GeoPackage (system python3 + python3-qgis) and describe it.

Usage: QT_QPA_PLATFORM=offscreen /usr/bin/python3 inspect_project.py GPKG PROJECT_NAME
       QT_QPA_PLATFORM=offscreen /usr/bin/python3 inspect_project.py FILE.qgz
Reads ``geopackage:GPKG?projectName=PROJECT_NAME`` (or the .qgz) with QgsProject.read and
prints one JSON
object: whether it read, the project CRS and default view extent, the layer tree (groups and
their layers, top first), the drawing order, per layer what ``inspect_layers.describe`` says
plus its source and the resolved file, and every warning QGIS logged.
"""

from __future__ import annotations

import json
import sys

from inspect_layers import describe, start_qgis
from qgis.core import QgsLayerTreeGroup, QgsLayerTreeLayer, QgsProject


def main(path: str, name: str | None) -> int:
    app, messages = start_qgis()
    project = QgsProject.instance()
    ok = project.read(path if name is None else f"geopackage:{path}?projectName={name}")
    extent = project.viewSettings().defaultViewExtent()
    report = {
        "read": ok,
        "error": project.error(),
        "title": project.title(),
        "crs": project.crs().authid(),
        "view_extent": [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()],
        "view_crs": extent.crs().authid(),
        "groups": [],
        "order": [layer.id() for layer in project.layerTreeRoot().layerOrder()],
        "custom_order": project.layerTreeRoot().hasCustomLayerOrder(),
        "layers": {},
        "messages": messages,
    }
    for node in project.layerTreeRoot().children():
        if isinstance(node, QgsLayerTreeGroup):
            members = [
                {"id": child.layerId(), "name": child.name(), "visible": child.isVisible()}
                for child in node.children()
                if isinstance(child, QgsLayerTreeLayer)
            ]
            report["groups"].append({"name": node.name(), "layers": members})
        else:
            report["groups"].append({"name": None, "layers": [{"id": node.layerId()}]})
    for layer_id, layer in project.mapLayers().items():
        info = describe(layer)
        info["name"] = layer.name()
        info["source"] = layer.source()
        info["file"] = layer.source().split("|")[0]
        report["layers"][layer_id] = info
    app.processEvents()
    print(json.dumps(report, ensure_ascii=False, default=str))
    project.clear()
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
