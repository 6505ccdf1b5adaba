"""One run's :class:`Results`: read -> validate -> areas, metrics, plan checks, computed once;
and ``diff`` between two GeoPackages. Everything above only renders a ``Results``."""

from .run import Results, analyse, load_and_analyse, load_checked

__all__ = ["Results", "analyse", "load_and_analyse", "load_checked"]
