"""One budget per scan: every limit that keeps a hostile image's cost bounded.

An engine scans images that anyone with push rights to a watched registry can craft. Each
limit here is a setting with a safe default (``ScanBudget`` is a section of the settings);
the defaults keep any scan under about 500 MiB of memory and 2 GiB of temporary disk.

Exhausting a budget either fails the whole image (``BudgetExceeded``, whose message names the
budget, its setting and the image/layer/file where it ran out) or, for per-file budgets, turns
that one file into an unknown naming the budget; the engine then moves on to the next image.
"""

from __future__ import annotations

import msgspec

from services.common.errors import ImageError

MiB = 1024 * 1024
GiB = 1024 * MiB


class ScanBudget(msgspec.Struct, frozen=True, kw_only=True):
    """The limits of one image's scan. Field names are the setting names (``ASSAY_BUDGET_<FIELD>``)."""

    # decompressed bytes: a layer may expand to at most max(ratio x compressed size, floor), and never
    # past the absolute caps (gzip and zstd bombs)
    layer_expand_ratio: int = 200
    layer_expand_floor_bytes: int = 1 * GiB
    layer_bytes_max: int = 32 * GiB
    image_bytes_max: int = 64 * GiB
    entries_per_layer_max: int = 5_000_000  # tar members in one layer
    path_bytes_max: int = 4096  # one member's path, in bytes (PATH_MAX)
    path_depth_max: int = 256  # components in one path
    parsed_file_bytes_max: int = 64 * MiB  # bytes a parser may be handed for one file
    archive_depth_max: int = 4  # nested archives (jar in war in ear ...)
    archive_expanded_bytes_max: int = 2 * GiB  # bytes expanded from nested archives, per image
    unknowns_max: int = 1000  # unknowns listed per image; past it one summary line says how many more
    temp_disk_bytes_max: int = 2 * GiB  # spooled files and other temporary disk, per image
    parse_seconds_max: float = 60.0  # one parser on one file
    image_seconds_max: float = 1800.0  # one image, end to end
    # the address space (RLIMIT_AS) of the process analysing one image (services/engine/isolate.py):
    # virtual, so well above the ~500 MiB resident the other budgets keep a scan under (thread
    # stacks, malloc arenas and compiled rule databases are reserved, not used)
    memory_bytes_max: int = 4 * GiB


class BudgetExceeded(ImageError):
    """A scan ran out of one of its budgets; the message names the budget and where it ran out."""

    def __init__(self, budget: str, limit: int | float, where: str) -> None:
        super().__init__(
            f"{where}: scan budget {budget} exceeded (limit {limit}; setting ASSAY_BUDGET_{budget.upper()})"
        )
        self.budget = budget
        self.limit = limit
        self.where = where
