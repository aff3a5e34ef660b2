"""The Textual cockpit on top of the headless core; the only package that imports Textual."""
