"""Shipped ruleset files (``default.yaml``); read with ``importlib.resources``."""
