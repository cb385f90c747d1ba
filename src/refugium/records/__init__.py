"""Pure-Python pieces of the documentation database: dates, vocabularies (no Django imports)."""
