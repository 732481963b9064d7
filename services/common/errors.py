"""The exception tree: one base per seam, third-party errors chained with ``from``.

Bad *input* (a corrupt status file, an unreadable manifest entry) is data, reported as an
``Unknown``; these exceptions are for failures that stop a unit of work.
"""


class AssayError(Exception):
    """Base of every error Assay raises on purpose."""


class ConfigError(AssayError):
    """A setting is missing or invalid; the message names the setting."""


class ReferenceError_(AssayError):
    """An image reference or scan target could not be parsed."""


class RegistryError(AssayError):
    """A registry could not be reached, refused us, or served something invalid."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class ImageError(AssayError):
    """An image could not be read: bad layout, archive, manifest or config."""


class LayerError(ImageError):
    """A layer could not be read to the end (truncated, corrupt, digest mismatch)."""


class BusError(AssayError):
    """The message bus failed (connect, publish, commit)."""


class StoreError(AssayError):
    """PostgreSQL failed or its schema is not what this version expects."""


class VulnDBError(AssayError):
    """The advisory database is missing, corrupt, or an advisory source could not be read."""
