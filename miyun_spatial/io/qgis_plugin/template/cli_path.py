"""The miyun-spatial command this plugin runs.

``BUILT_WITH`` is the command of the Python that built the plugin (written by
``miyun-spatial qgis-plugin``). The environment variable ``MIYUN_SPATIAL_CLI`` or the QGIS
setting ``miyun_spatial/cli`` (a command line, e.g. ``/opt/miyun/bin/miyun-spatial``) take
precedence.
"""

import json
import os
import shlex
from pathlib import Path

BUILT_WITH = "@BUILT_WITH@"
ENV_VAR = "MIYUN_SPATIAL_CLI"
SETTING = "miyun_spatial/cli"
CHOICES = json.loads((Path(__file__).with_name("choices.json")).read_text(encoding="utf-8"))


def _setting():
    try:
        from qgis.core import QgsSettings
    except ImportError:  # outside QGIS
        return ""
    value = QgsSettings().value(SETTING, "")
    return value if isinstance(value, str) else ""


def command():
    """The command to run (a list of arguments), and where it came from."""
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        return shlex.split(override), ENV_VAR
    setting = _setting().strip()
    if setting:
        return shlex.split(setting), SETTING
    return list(BUILT_WITH), "built with"
