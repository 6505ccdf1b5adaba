"""The package's error hierarchy; each error carries the exit code the CLI uses for it.

Messages name the file, layer and feature where they can, and say what to do next.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_DATA = 1  # the data has errors (validation findings of level error, or a refused computation)
EXIT_INPUT = 2  # the input cannot be read (missing, not a GeoPackage, corrupt, locked) or bad usage
EXIT_OUTPUT = 3  # an output cannot be written
EXIT_INTERNAL = 4  # a bug: the message says how to get details


class MiyunError(Exception):
    """Base class: an error the CLI turns into one line and an exit code."""

    exit_code = EXIT_DATA


class InputError(MiyunError, ValueError):
    """The input file cannot be read as a GeoPackage."""

    exit_code = EXIT_INPUT


class DataError(MiyunError, ValueError):
    """The input was read but its content prevents the computation."""

    exit_code = EXIT_DATA


class CRSError(DataError):
    """A layer has no CRS, or a computation was asked in a geographic CRS."""


class OutputError(MiyunError, OSError):
    """An output file or folder cannot be written."""

    exit_code = EXIT_OUTPUT
