"""Views (filled in by the area)."""
