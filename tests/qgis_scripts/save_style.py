"""Save a layer's current style into its GeoPackage the way QGIS does ("Save as Default").

Usage: QT_QPA_PLATFORM=offscreen /usr/bin/python3 save_style.py GPKG LAYER
QGIS creates the layer_styles table if the file has none; the tests compare that table with
the one miyun-spatial writes. Prints JSON: {"error": "..."} (empty when saved).
"""

from __future__ import annotations

import json
import sys

from qgis.core import QgsApplication, QgsVectorLayer


def main(path: str, name: str) -> int:
    app = QgsApplication([], False)
    app.initQgis()
    layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
    error = (
        layer.saveStyleToDatabase("qgis", "saved by QGIS", True, "")
        if layer.isValid()
        else "invalid"
    )
    print(json.dumps({"error": error}))
    del layer
    app.exitQgis()
    return 0 if not error else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
