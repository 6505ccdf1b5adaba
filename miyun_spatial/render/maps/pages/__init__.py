"""One module per map page; each exposes ``build(inputs) -> Page`` (or a list of pages)."""
