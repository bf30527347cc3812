"""Hypothesis property suite: every statement of the catalog, checked on drawn configurations."""
