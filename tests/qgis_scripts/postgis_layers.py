"""Open published PostGIS tables in QGIS (system python3 + python3-qgis) and describe them.

Usage: QT_QPA_PLATFORM=offscreen /usr/bin/python3 postgis_layers.py HOST PORT DB USER SCHEMA
       LAYER[,LAYER...] [--edit LAYER CODE FIELD VALUE]

The password comes from PGPASSFILE (libpq), as for any QGIS user with a ~/.pgpass. Prints one
JSON object: per layer what ``inspect_layers.describe`` reports (validity, renderer, widgets,
aliases, as QGIS loaded them from the default style in public.layer_styles), the warnings QGIS
logged, and with --edit the result of setting FIELD to VALUE on the feature CODE through the
layer's edit buffer (as a user would in the attribute form) and committing.
"""

from __future__ import annotations

import json
import sys

from inspect_layers import describe
from qgis.core import Qgis, QgsApplication, QgsDataSourceUri, QgsFeatureRequest, QgsVectorLayer


def open_layer(host, port, db, user, schema, name, geometry) -> QgsVectorLayer:
    uri = QgsDataSourceUri()
    uri.setConnection(host, port, db, user, "")
    uri.setDataSource(schema, name, geometry, "", "fid")
    return QgsVectorLayer(uri.uri(False), name, "postgres")


def edit(layer: QgsVectorLayer, code: str, field: str, value: str) -> dict:
    request = QgsFeatureRequest().setFilterExpression(f"\"code\" = '{code}'")
    [feature] = list(layer.getFeatures(request))
    assert layer.startEditing()
    assert layer.changeAttributeValue(feature.id(), layer.fields().indexOf(field), value)
    committed = layer.commitChanges()
    return {"committed": committed, "errors": layer.commitErrors(), "fid": feature.id()}


def main(argv: list[str]) -> int:
    host, port, db, user, schema, names = argv[:6]
    app = QgsApplication([], False)
    app.initQgis()
    messages: list[dict] = []

    def record(message, tag, level):
        if level >= Qgis.Warning:
            messages.append({"tag": tag, "level": int(level), "message": message})

    QgsApplication.messageLog().messageReceived.connect(record)
    report = {"layers": {}, "messages": messages}
    for name in names.split(","):
        geometry = "" if name == "land_use_classes" else "geom"
        layer = open_layer(host, port, db, user, schema, name, geometry)
        report["layers"][name] = describe(layer)
        if "--edit" in argv and argv[argv.index("--edit") + 1] == name:
            code, field, value = argv[argv.index("--edit") + 2 : argv.index("--edit") + 5]
            report["edit"] = edit(layer, code, field, value)
        del layer
    app.processEvents()
    print(json.dumps(report, ensure_ascii=False, default=str))
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
