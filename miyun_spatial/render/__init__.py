"""Renderers of a :class:`~miyun_spatial.analysis.Results`: interactive maps, static maps,
reports (HTML, XLSX), results.gpkg, fonts. Renderers draw; they compute no figure."""
