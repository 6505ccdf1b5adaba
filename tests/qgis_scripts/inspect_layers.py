"""Open every layer of a GeoPackage in QGIS (system python3 + python3-qgis) and describe it.

Usage: QT_QPA_PLATFORM=offscreen /usr/bin/python3 inspect_layers.py GPKG
Prints one JSON object: per layer whether it is valid, its renderer (type, field, categories
with colours), labels, editor widgets and aliases, as QGIS loaded them from the file's
default style; and every warning QGIS logged while loading.
"""

from __future__ import annotations

import json
import sqlite3
import sys

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsCategorizedSymbolRenderer,
    QgsProviderRegistry,
    QgsRenderContext,
    QgsSymbolLayer,
    QgsVectorLayer,
)


def describe(layer: QgsVectorLayer) -> dict:
    info = {
        "valid": layer.isValid(),
        "features": layer.featureCount(),
        "crs": layer.crs().authid(),
        "geometry_type": layer.geometryType(),
        "widgets": {},
        "aliases": {},
    }
    renderer = layer.renderer()
    if renderer is not None:
        info["renderer"] = renderer.type()
        if isinstance(renderer, QgsCategorizedSymbolRenderer):
            info["field"] = renderer.classAttribute()
            info["categories"] = [
                {
                    "value": category.value(),
                    "label": category.label(),
                    "color": category.symbol().color().name(),
                    "alpha": category.symbol().color().alpha(),
                }
                for category in renderer.categories()
            ]
        names = QgsSymbolLayer.propertyDefinitions()
        info["symbol_layers"] = [
            {
                "class": sl.layerType(),
                "color": sl.color().name(),
                "data_defined": sorted(
                    names[key].name() for key in sl.dataDefinedProperties().propertyKeys()
                ),
            }
            for symbol in renderer.symbols(QgsRenderContext())[:1]
            for sl in symbol.symbolLayers()
        ]
    info["labels"] = bool(layer.labelsEnabled() and layer.labeling() is not None)
    if info["labels"]:
        info["label_field"] = layer.labeling().settings().fieldName
        info["label_html"] = layer.labeling().settings().format().allowHtmlFormatting()
    for field in layer.fields():
        setup = field.editorWidgetSetup()
        if setup.type():
            info["widgets"][field.name()] = {"type": setup.type(), "config": setup.config()}
        if field.alias():
            info["aliases"][field.name()] = field.alias()
    return info


def start_qgis() -> tuple[QgsApplication, list[dict]]:
    """A headless QGIS, and the list every warning it logs from now on is appended to."""
    app = QgsApplication([], False)
    app.initQgis()
    messages: list[dict] = []

    def record(message, tag, level):
        if level >= Qgis.Warning:
            messages.append({"tag": tag, "level": int(level), "message": message})

    QgsApplication.messageLog().messageReceived.connect(record)
    return app, messages


def main(path: str) -> int:
    app, messages = start_qgis()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        names = [row[0] for row in con.execute("SELECT table_name FROM gpkg_contents")]
        user_version = con.execute("PRAGMA user_version").fetchone()[0]
    report = {"user_version": user_version, "layers": {}, "messages": messages}
    sublayers = QgsProviderRegistry.instance().querySublayers(path)
    report["sublayers"] = sorted(s.name() for s in sublayers)
    for name in names:
        layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
        report["layers"][name] = describe(layer)
        del layer
    app.processEvents()
    print(json.dumps(report, ensure_ascii=False, default=str))
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
