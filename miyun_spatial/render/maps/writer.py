"""``write_maps``: every page for one plan, written atomically into the output folder."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from types import ModuleType

from ...core.errors import DataError
from ...core.parallel import Task
from ...io.outputs import write_text
from .page import MapInputs, Page
from .pages import base_detail, bases, index, land_use, overview, projects, yields

log = logging.getLogger(__name__)

PAGE_MODULES = (overview, bases, base_detail, land_use, yields, projects)


def build_pages(inputs: MapInputs, *, progress: Callable[[str], None] | None = None) -> list[Page]:
    """Every map page (index excluded), in the order the index lists them.

    ``progress(name)`` is called before each page module is built (e.g. "yield").
    """
    pages: list[Page] = []
    for module in PAGE_MODULES:
        if progress is not None:
            progress(module_name(module))
        pages.extend(module_pages(inputs, module))
    _refuse_duplicates(pages)
    return pages


def module_name(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[-1]


def module_pages(inputs: MapInputs, module: ModuleType) -> list[Page]:
    """The pages of one module of :data:`PAGE_MODULES`."""
    built = module.build(inputs)
    return built if isinstance(built, list) else [built]


def write_module_pages(inputs: MapInputs, module: ModuleType, out_dir: Path) -> list[Page]:
    """Write the pages of one page module into ``out_dir``; return them without their HTML
    (what the index needs), so that a worker process sends back little."""
    pages = module_pages(inputs, module)
    _refuse_duplicates(pages)
    for page in pages:
        write_text(Path(out_dir) / page.filename, page.html)
    return [replace(page, html="") for page in pages]


def write_index(
    inputs: MapInputs, pages: Sequence[Page], out_dir: Path, files: Sequence[Path] = ()
) -> Path:
    """index.html listing ``pages`` (written by :func:`write_module_pages`) and the run's
    other output ``files``."""
    _refuse_duplicates(pages)
    page = index.build(inputs, pages, out_dir=Path(out_dir), files=files)
    return write_text(Path(out_dir) / index.FILENAME, page.html)


def _refuse_duplicates(pages: Sequence[Page]) -> None:
    names = [p.filename for p in pages]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DataError(
            f"two maps would be written to {', '.join(duplicates)}: layer 'farmer_bases' has "
            "codes that differ only in characters not allowed in file names; give each base "
            "its own code (B1, B2, ...)"
        )


def page_tasks(inputs: MapInputs, out_dir: Path) -> list[Task]:
    """One task per page module, labelled 'maps: <module>', returning its pages (no HTML)."""
    from .tile_layer import tile_tasks

    return [
        Task(
            f"maps: {module_name(m)}",
            lambda _, m=m: write_module_pages(inputs, m, out_dir),
            writes=False,  # its pages, for the index (which lists the files)
        )
        for m in PAGE_MODULES
    ] + tile_tasks(inputs, out_dir)  # large parcel layers: tiles/ (no pages)


def write_pages_index(
    inputs: MapInputs, pages: Sequence[Page], out_dir: Path, files: Sequence[Path] = ()
) -> list[Path]:
    """index.html for ``pages`` (already written) and the run's other output ``files``; the
    paths of the index and the pages."""
    out_dir = Path(out_dir)
    paths = [
        write_index(inputs, pages, out_dir, files),
        *(out_dir / page.filename for page in pages),
    ]
    log.info("wrote %d maps to %s", len(paths), out_dir)
    return paths
