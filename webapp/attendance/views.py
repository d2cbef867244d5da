"""Views of daily attendance (filled in by the daily screen)."""
