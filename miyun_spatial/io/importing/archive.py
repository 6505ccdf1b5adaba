"""Zipped deliveries (how Shapefiles arrive by e-mail): ``X.zip`` or ``/vsizip/X.zip/inner/path``.

The archive is read in place through GDAL's ``/vsizip/``; the Shapefile to read is the only one
in it, the one ``--source-layer`` names, or the one the ``/vsizip/`` path names. The ``.dbf``
and ``.cpg`` bytes are read from the archive for the encoding decision.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ...core.errors import InputError
from .encoding import EncodingDecision, dbf_encoding

VSIZIP = "/vsizip/"


@dataclass(frozen=True)
class Zipped:
    archive: Path
    member: str  # path inside the archive ('' = the archive itself)

    @property
    def gdal_path(self) -> str:
        inner = f"/{self.member}" if self.member else ""
        return f"{VSIZIP}{self.archive}{inner}"

    @property
    def is_shapefile(self) -> bool:
        return self.member.lower().endswith(".shp")


def split_zip_path(path: Path | str) -> tuple[Path, str] | None:
    """``(archive, inner path)`` of a ``.zip`` or ``/vsizip/`` path, else None."""
    text = str(path)
    if text.startswith(VSIZIP):
        rest = text[len(VSIZIP) :]
        cut = rest.lower().find(".zip")
        while cut != -1 and rest[cut + 4 : cut + 5] not in ("", "/"):
            cut = rest.lower().find(".zip", cut + 1)
        if cut == -1:
            raise InputError(f"{path}: a /vsizip/ path needs a .zip archive, e.g. /vsizip/X.zip")
        archive = Path(rest[: cut + 4])
        if not archive.is_absolute() and not archive.exists() and Path("/", archive).exists():
            archive = Path("/", archive)  # /vsizip//abs.zip, its double slash lost on the way
        return archive, rest[cut + 5 :].strip("/")
    if Path(text).suffix.lower() == ".zip":
        return Path(text), ""
    return None


def _stem(member: str) -> str:
    return PurePosixPath(member).stem


def open_zip(archive: Path, inner: str, source_layer: str | None) -> Zipped:
    """The member of ``archive`` to read, or InputError listing the Shapefiles to pick from."""
    if not archive.is_file():
        raise InputError(f"{archive}: no such file; give the delivery's path")
    if not zipfile.is_zipfile(archive):
        raise InputError(f"{archive}: is not a zip archive (damaged download?); unzip it first")
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
    if inner:
        if not any(n.rstrip("/") == inner or n.startswith(inner + "/") for n in names):
            raise InputError(f"{archive}: holds no '{inner}'; list it with unzip -l")
        shps = [n for n in names if n.lower().endswith(".shp") and n.startswith(inner + "/")]
        if not inner.lower().endswith(".shp") and len(shps) == 1 and not source_layer:
            inner = shps[0]
        return Zipped(archive, inner)
    shps = sorted(n for n in names if n.lower().endswith(".shp") and not n.startswith("__MACOSX"))
    if source_layer:
        picked = [n for n in shps if _stem(n) == source_layer]
        if len(picked) == 1:
            return Zipped(archive, picked[0])
    if len(shps) == 1:
        return Zipped(archive, shps[0])
    if len(shps) > 1:
        raise InputError(
            f"{archive}: holds {len(shps)} Shapefiles ({', '.join(shps[:12])}); pick one with "
            f"--source-layer {_stem(shps[0])} or give the path /vsizip/{archive}/{shps[0]}"
        )
    gdbs = sorted({n.split(".gdb/")[0] + ".gdb" for n in names if ".gdb/" in n})
    return Zipped(archive, gdbs[0] if len(gdbs) == 1 else "")


def zipped_encoding(zipped: Zipped, override: str | None) -> EncodingDecision:
    """The ``.dbf`` encoding of a zipped Shapefile, from the ``.cpg`` and the bytes inside."""
    base = zipped.member[:-4]
    with zipfile.ZipFile(zipped.archive) as zf:
        members = {n.lower(): n for n in zf.namelist()}
        dbf = members.get(f"{base}.dbf".lower())
        if dbf is None:
            raise InputError(
                f"{zipped.archive}: {zipped.member} has no .dbf beside it in the archive; zip "
                "the whole Shapefile (.shp .shx .dbf .prj)"
            )
        cpg = members.get(f"{base}.cpg".lower())
        cpg_text = zf.read(cpg).decode("ascii", errors="replace") if cpg else None
        where = f"{zipped.archive}:{dbf}"
        return dbf_encoding(
            where, lambda: zf.open(dbf), cpg, cpg_text, override, layer=_stem(zipped.member)
        )
