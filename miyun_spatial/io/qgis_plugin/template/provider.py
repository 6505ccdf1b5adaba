"""The ``miyunspatial`` Processing provider and its four algorithms."""

from qgis.core import QgsProcessingProvider

from .algorithms import BuildAlgorithm, ImportAlgorithm, MixAlgorithm, ValidateAlgorithm


class MiyunSpatialProvider(QgsProcessingProvider):
    def id(self):
        return "miyunspatial"

    def name(self):
        return "密云规划数据 miyun-spatial"

    def longName(self):
        return "密云区高精尖产业规划数据工具 miyun-spatial"

    def loadAlgorithms(self):
        for algorithm in (ValidateAlgorithm, BuildAlgorithm, MixAlgorithm, ImportAlgorithm):
            self.addAlgorithm(algorithm())
