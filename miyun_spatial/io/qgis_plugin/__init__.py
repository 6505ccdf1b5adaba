"""The QGIS Processing plugin, as an installable zip (``miyun-spatial qgis-plugin``).

The plugin's code is the folder ``template/`` (plain ``.py`` files and ``metadata.txt``),
copied as it is except for two values: ``cli_path.BUILT_WITH``, the command line that runs
this miyun-spatial (written as a Python literal with ``repr``), and ``metadata.txt``'s
version. The choices the algorithms offer (zone layers, land uses, import layers) go beside
them as ``choices.json``. No template engine sees any of it.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..outputs import write_atomic

TEMPLATE = Path(__file__).with_name("template")
PLUGIN_NAME = "miyun_spatial_qgis"  # the plugin's folder (never 'miyun_spatial': no shadowing)
PROVIDER_ID = "miyunspatial"
ALGORITHMS = ("validate", "build", "mix", "import")
_BUILT_WITH = '"@BUILT_WITH@"'
_VERSION = "@VERSION@"
_SAFE_VERSION = re.compile(r"^[0-9A-Za-z.+-]+$")


def _render(name: str, text: str, command: Sequence[str], version: str) -> str:
    if name == "cli_path.py":
        if text.count(_BUILT_WITH) != 1:
            raise ValueError(f"{name}: expected one {_BUILT_WITH} placeholder")
        return text.replace(_BUILT_WITH, repr(tuple(str(part) for part in command)))
    if name == "metadata.txt":
        if not _SAFE_VERSION.match(version):
            raise ValueError(f"version {version!r} is not a plugin version")
        return text.replace(_VERSION, version)
    return text


def plugin_files(
    command: Sequence[str], choices: Mapping[str, Sequence[str]], version: str
) -> dict[str, str]:
    """Path inside the zip -> text, for the plugin running ``command``."""
    files = {
        f"{PLUGIN_NAME}/{path.name}": _render(
            path.name, path.read_text(encoding="utf-8"), command, version
        )
        for path in sorted(TEMPLATE.iterdir())
        if path.suffix in (".py", ".txt")
    }
    choices_text = json.dumps({k: list(v) for k, v in choices.items()}, ensure_ascii=False)
    files[f"{PLUGIN_NAME}/choices.json"] = choices_text + "\n"
    return files


def write_plugin(
    out_dir: Path,
    *,
    command: Sequence[str],
    choices: Mapping[str, Sequence[str]],
    version: str,
) -> Path:
    """Write ``OUT_DIR/miyun_spatial_qgis-VERSION.zip`` (atomically) and return its path.

    Install it in QGIS with Plugins > Manage and Install Plugins > Install from ZIP, or unzip
    it into a profile's ``python/plugins`` folder.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{PLUGIN_NAME}-{version}.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{PLUGIN_NAME}/", "")
        for name, text in plugin_files(command, choices, version).items():
            archive.writestr(name, text.encode("utf-8"))
    return write_atomic(target, lambda tmp: Path(tmp).write_bytes(buffer.getvalue()))


__all__ = ["ALGORITHMS", "PLUGIN_NAME", "PROVIDER_ID", "plugin_files", "write_plugin"]
