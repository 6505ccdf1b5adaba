"""Spatial metrics: pure functions on GeoDataFrames, measured in EPSG:4548."""
