"""The Processing algorithms: validate, build, mix and import, each one run of miyun-spatial.

Every algorithm runs the command as a subprocess (:mod:`.runner`), writes its log beside the
outputs and returns the files the command wrote (output folder, CSV tables, log). A failure
of the command is a QgsProcessingException carrying its one-line message.
"""

import csv
import json
from pathlib import Path

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputBoolean,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterString,
)

from .cli_path import CHOICES
from .runner import DATA_ERRORS, run

GPKG_FILTER = "GeoPackage (*.gpkg)"
ALL = "(all 全部)"


class _Base(QgsProcessingAlgorithm):
    NAME = ""
    TITLE = ""
    HELP = ""

    def createInstance(self):
        return type(self)()

    def name(self):
        return self.NAME

    def displayName(self):
        return self.TITLE

    def group(self):
        return "密云规划数据 miyun-spatial"

    def groupId(self):
        return "miyunspatial"

    def shortHelpString(self):
        return self.HELP

    def _fail_unless(self, result, *codes):
        if result.returncode not in codes:
            raise QgsProcessingException(f"miyun-spatial: {result.last_line()}")


def _input_parameter(optional=True):
    return QgsProcessingParameterFile(
        "INPUT",
        "规划数据 Plan GeoPackage (empty: the embedded default data)",
        extension="gpkg",
        optional=optional,
    )


def _write_csv_text(path: Path, text: str) -> None:
    """The command's CSV as it printed it, with a BOM so that Excel shows the Chinese text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8-sig", newline="")


class ValidateAlgorithm(_Base):
    NAME = "validate"
    TITLE = "校验规划数据 Validate the plan data"
    HELP = (
        "miyun-spatial validate: the findings on the data (errors, warnings, notes) as "
        "validation.csv in the output folder. Data errors are reported, not a failure."
    )

    def initAlgorithm(self, config=None):
        self.addParameter(_input_parameter())
        self.addParameter(
            QgsProcessingParameterFolderDestination("OUTPUT_FOLDER", "输出文件夹 Output folder")
        )
        self.addOutput(QgsProcessingOutputFile("VALIDATION", "校验结果 validation.csv"))
        self.addOutput(QgsProcessingOutputNumber("ERRORS", "错误数 Errors"))
        self.addOutput(QgsProcessingOutputNumber("WARNINGS", "警告数 Warnings"))
        self.addOutput(QgsProcessingOutputFile("LOG", "日志 Log"))

    def processAlgorithm(self, parameters, context, feedback):
        folder = Path(self.parameterAsString(parameters, "OUTPUT_FOLDER", context))
        source = self.parameterAsFile(parameters, "INPUT", context)
        result = run(
            ["validate", *([source] if source else []), "--csv"], feedback, folder / "validate.log"
        )
        self._fail_unless(result, 0, DATA_ERRORS)
        table = folder / "validation.csv"
        _write_csv_text(table, result.stdout)
        levels = [row.get("level") for row in csv.DictReader(result.stdout.splitlines())]
        if result.returncode == DATA_ERRORS:
            feedback.reportError(f"miyun-spatial: {result.last_line()}", False)
        return {
            "OUTPUT_FOLDER": str(folder),
            "VALIDATION": str(table),
            "ERRORS": levels.count("error"),
            "WARNINGS": levels.count("warning"),
            "LOG": str(folder / "validate.log"),
        }


class BuildAlgorithm(_Base):
    NAME = "build"
    TITLE = "生成全部成果 Build every table, map and report"
    HELP = (
        "miyun-spatial build: tables (CSV), maps, reports and results.gpkg (with its QGIS "
        "project) in the output folder."
    )

    def initAlgorithm(self, config=None):
        self.addParameter(_input_parameter())
        self.addParameter(
            QgsProcessingParameterBoolean(
                "OFFLINE", "离线地图 Offline maps (no web basemap)", defaultValue=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFolderDestination("OUTPUT_FOLDER", "输出文件夹 Output folder")
        )
        self.addOutput(QgsProcessingOutputFile("RESULTS_GPKG", "成果 results.gpkg"))
        self.addOutput(QgsProcessingOutputFile("INDEX", "入口页 index.html"))
        self.addOutput(QgsProcessingOutputString("TABLES", "表格 CSV tables (JSON list)"))
        self.addOutput(QgsProcessingOutputFile("LOG", "日志 Log"))

    def processAlgorithm(self, parameters, context, feedback):
        folder = Path(self.parameterAsString(parameters, "OUTPUT_FOLDER", context))
        source = self.parameterAsFile(parameters, "INPUT", context)
        args = ["build", *([source] if source else []), "--out", str(folder), "--json"]
        if self.parameterAsBool(parameters, "OFFLINE", context):
            args.append("--offline")
        log = folder.parent / f"{folder.name}.build.log"  # build replaces the whole folder
        result = run(args, feedback, log)
        self._fail_unless(result, 0)
        try:
            outputs = [Path(p) for p in json.loads(result.stdout)["outputs"]]
        except (ValueError, KeyError) as error:
            message = f"miyun-spatial build printed no summary: {error}"
            raise QgsProcessingException(message) from None
        tables = sorted(str(p) for p in outputs if p.suffix == ".csv")
        named = {p.name: str(p) for p in outputs}
        return {
            "OUTPUT_FOLDER": str(folder),
            "RESULTS_GPKG": named.get("results.gpkg", ""),
            "INDEX": named.get("index.html", ""),
            "TABLES": json.dumps(tables, ensure_ascii=False),
            "LOG": str(log),
        }


class MixAlgorithm(_Base):
    NAME = "mix"
    TITLE = "用地结构 Land-use mix of every zone"
    HELP = (
        "miyun-spatial mix --csv: class areas in ha and 亩 and shares per zone (or, with "
        "indices, Shannon entropy and HHI), as a CSV table."
    )
    LAYERS = (ALL, *CHOICES["zone_layers"])
    USES = (ALL, *CHOICES["uses"])

    def initAlgorithm(self, config=None):
        self.addParameter(_input_parameter())
        self.addParameter(
            QgsProcessingParameterEnum(
                "LAYER", "分区图层 Zone layer", options=list(self.LAYERS), defaultValue=0
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                "USE", "用地 Land use", options=list(self.USES), defaultValue=0
            )
        )
        self.addParameter(
            QgsProcessingParameterBoolean(
                "INDICES", "混合度指数 Mix indices instead of areas", defaultValue=False
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                "OUTPUT", "用地结构表 Mix table", fileFilter="CSV (*.csv)"
            )
        )
        self.addOutput(QgsProcessingOutputFile("LOG", "日志 Log"))

    def processAlgorithm(self, parameters, context, feedback):
        target = Path(self.parameterAsFileOutput(parameters, "OUTPUT", context))
        source = self.parameterAsFile(parameters, "INPUT", context)
        args = ["mix", *([source] if source else []), "--csv"]
        layer = self.parameterAsEnum(parameters, "LAYER", context)
        use = self.parameterAsEnum(parameters, "USE", context)
        if layer:
            args += ["--layer", self.LAYERS[layer]]
        if use:
            args += ["--use", self.USES[use]]
        if self.parameterAsBool(parameters, "INDICES", context):
            args.append("--indices")
        log = target.with_suffix(".log")
        result = run(args, feedback, log)
        self._fail_unless(result, 0)
        _write_csv_text(target, result.stdout)
        return {"OUTPUT": str(target), "LOG": str(log)}


class ImportAlgorithm(_Base):
    NAME = "import"
    TITLE = "导入规划成果 Import a delivery into a new GeoPackage"
    HELP = (
        "miyun-spatial import: SOURCE (Shapefile, FileGDB, GeoPackage, GeoJSON, KML, DXF, CSV) "
        "into one catalogue layer of a NEW GeoPackage (a copy of the base with that layer "
        "replaced), validated. The report is written beside it as JSON."
    )
    LAYERS = tuple(CHOICES["import_layers"])

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFile("SOURCE", "来源数据 Source file"))
        self.addParameter(
            QgsProcessingParameterEnum(
                "LAYER", "目标图层 Catalogue layer", options=list(self.LAYERS)
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                "BASE",
                "基础数据 Base GeoPackage (empty: the embedded default data)",
                extension="gpkg",
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                "SOURCE_CRS", "来源坐标系 Source CRS (e.g. EPSG:4527, gcj02)", optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterString("ENCODING", "编码 Text encoding (e.g. GBK)", optional=True)
        )
        self.addParameter(
            QgsProcessingParameterBoolean(
                "REPAIR", "修复几何 Repair invalid geometries", defaultValue=False
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                "OUTPUT", "新数据 New GeoPackage", fileFilter=GPKG_FILTER
            )
        )
        self.addOutput(QgsProcessingOutputBoolean("VALID", "校验通过 Valid"))
        self.addOutput(QgsProcessingOutputFile("REPORT", "导入报告 Import report (JSON)"))
        self.addOutput(QgsProcessingOutputFile("LOG", "日志 Log"))

    def processAlgorithm(self, parameters, context, feedback):
        target = Path(self.parameterAsFileOutput(parameters, "OUTPUT", context))
        layer = self.LAYERS[self.parameterAsEnum(parameters, "LAYER", context)]
        args = ["import", self.parameterAsFile(parameters, "SOURCE", context), "--layer", layer]
        args += ["--out", str(target), "--force", "--json"]
        base = self.parameterAsFile(parameters, "BASE", context)
        if base:
            args += ["--from", base]
        for name, option in (("SOURCE_CRS", "--source-crs"), ("ENCODING", "--encoding")):
            value = self.parameterAsString(parameters, name, context).strip()
            if value:
                args += [option, value]
        if self.parameterAsBool(parameters, "REPAIR", context):
            args.append("--repair")
        log = target.with_suffix(".log")
        result = run(args, feedback, log)
        self._fail_unless(result, 0, DATA_ERRORS)
        report = target.with_suffix(".report.json")
        report.write_text(result.stdout, encoding="utf-8")
        if result.returncode == DATA_ERRORS:
            feedback.reportError(f"miyun-spatial: {result.last_line()}", False)
        return {
            "OUTPUT": str(target) if result.returncode == 0 else "",
            "VALID": result.returncode == 0,
            "REPORT": str(report),
            "LOG": str(log),
        }
