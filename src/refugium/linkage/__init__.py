"""Record linkage across sources (no Django imports)."""
