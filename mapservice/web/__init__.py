"""Thin Flask blueprints over the pure functions of the package."""
