"""Runs the miyun-spatial command as a subprocess for an algorithm: its log, exit code, stdout."""

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from qgis.core import QgsProcessingException

from .cli_path import ENV_VAR, SETTING, command

# Exit codes of miyun-spatial: 0 success, 1 the data has errors, 2 bad input, 3 output, 4 bug
DATA_ERRORS = 1
_DROP = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")


@dataclass
class Run:
    args: list
    returncode: int
    stdout: str
    stderr: str

    def last_line(self):
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else f"exit code {self.returncode}"


def _environment():
    """QGIS's environment without its Python paths (the command has its own Python)."""
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run(args, feedback, log_path: Path):
    """Run ``miyun-spatial ARGS``; stderr goes to the feedback and, with stdout, to log_path."""
    base, origin = command()
    full = [*base, *[str(a) for a in args]]
    feedback.pushInfo(f"miyun-spatial ({origin}): {' '.join(full)}")
    try:
        process = subprocess.Popen(
            full,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=_environment(),
        )  # bytes: the command's CSV keeps its own line ends
    except OSError as error:
        raise QgsProcessingException(
            f"cannot run miyun-spatial ({origin}) {base[0] if base else ''!r}: {error.strerror}; "
            f"point the environment variable {ENV_VAR} or the QGIS setting {SETTING} at the "
            "miyun-spatial executable"
        ) from None

    while True:
        try:
            out, err = process.communicate(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            if feedback.isCanceled():
                process.terminate()
                out, err = process.communicate()
                break
    stdout, stderr = (part.decode("utf-8", "replace") for part in (out, err))
    for line in stderr.splitlines():
        feedback.pushInfo(line)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(  # (the log in the platform's line ends)
        f"$ {' '.join(full)}\nexit code {process.returncode}\n\n--- stderr\n{stderr}\n"
        f"--- stdout\n{stdout}",
        encoding="utf-8",
    )
    return Run(full, process.returncode, stdout, stderr)
