"""Modal screens: detail views and help."""
