"""The model every layer shares: errors, CRS rules, the layer catalogue, the output vocabulary,
the palette and the plan citation. Imports nothing else of the package."""
