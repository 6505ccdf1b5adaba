"""The plugin object: registers the Processing provider (desktop and ``qgis_process``)."""

from qgis.core import QgsApplication

from .provider import MiyunSpatialProvider


class MiyunSpatialPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None

    def initProcessing(self):
        if self.provider is None:
            self.provider = MiyunSpatialProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
