"""Numbered SQL migrations ``NNNN_name.sql``, applied in order by ``services.common.store.migrate``.

Never edit a migration that was released: add the next number instead.
"""
