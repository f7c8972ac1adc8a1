"""The export stage: one list of items, several renderers (table, CSV, JSON, HTML)."""
