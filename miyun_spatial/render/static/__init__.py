"""Static maps (PNG/SVG) for documents, drawn with matplotlib: the figures and their elements."""
