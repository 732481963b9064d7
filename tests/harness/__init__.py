"""Helpers shared by Assay's tests (plain functions, no pytest fixtures)."""
