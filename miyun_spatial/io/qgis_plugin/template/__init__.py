"""QGIS plugin: the miyun-spatial command as a Processing provider (built by
``miyun-spatial qgis-plugin``). QGIS calls :func:`classFactory`; ``qgis_process`` then calls
``initProcessing`` on the returned object."""


def classFactory(iface):
    from .plugin import MiyunSpatialPlugin

    return MiyunSpatialPlugin(iface)
