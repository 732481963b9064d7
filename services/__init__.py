"""Assay services: inventory, dedupe, engine, policy, and the CLI that runs them."""
