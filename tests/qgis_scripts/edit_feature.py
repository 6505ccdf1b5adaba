"""Edit one feature of a GeoPackage in QGIS, through the layer's edit buffer, and commit.

Usage: QT_QPA_PLATFORM=offscreen /usr/bin/python3 edit_feature.py GPKG LAYER CODE FIELD VALUE
       BUFFER_M [--hold]

Sets FIELD to VALUE and reshapes the feature's geometry by a buffer of BUFFER_M metres
(negative: shrink), as a user would in QGIS's attribute form and with the vertex tools. With
--hold the edits stay in the edit buffer (the file open in QGIS, as during an edit session)
until a line is read on stdin.
Prints JSON lines: {"state": "editing", ...} (with --hold) and {"state": "committed", ...}.
"""

from __future__ import annotations

import json
import sys

from qgis.core import QgsApplication, QgsFeatureRequest, QgsVectorLayer


def main(argv: list[str]) -> int:
    path, layer_name, code, field, value, distance = argv[:6]
    hold = "--hold" in argv[6:]
    app = QgsApplication([], False)
    app.initQgis()
    layer = QgsVectorLayer(f"{path}|layername={layer_name}", layer_name, "ogr")
    if not layer.isValid():
        print(json.dumps({"state": "invalid", "layer": layer_name}))
        return 1
    request = QgsFeatureRequest().setFilterExpression(f"\"code\" = '{code}'")
    [feature] = list(layer.getFeatures(request))
    old = {"category": feature[field], "area_m2": feature.geometry().area()}
    request = QgsFeatureRequest(feature.id())
    assert layer.startEditing()
    index = layer.fields().indexOf(field)
    assert layer.changeAttributeValue(feature.id(), index, value)
    geometry = feature.geometry().buffer(float(distance), 8)
    assert layer.changeGeometry(feature.id(), geometry)
    if hold:
        print(json.dumps({"state": "editing", "fid": feature.id()}), flush=True)
        sys.stdin.readline()
    committed = layer.commitChanges()
    saved = next(layer.getFeatures(request))
    print(
        json.dumps(
            {
                "state": "committed" if committed else "failed",
                "errors": layer.commitErrors(),
                "fid": feature.id(),
                "old": old,
                "new": {"category": saved[field], "area_m2": saved.geometry().area()},
            },
            ensure_ascii=False,
        ),
        flush=True,
    )
    del layer
    app.exitQgis()
    return 0 if committed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
