"""Cockpit widgets: panes and the header."""
