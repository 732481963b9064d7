"""The layer walk: each layer streamed once, top layer first, nothing extracted to disk.

Walking from the top layer down means a file's first occurrence is its final version:
later (lower) copies of the same path, and everything under a path that an upper layer
deleted (``.wh.NAME``) or made opaque (``.wh..wh..opq``), are hidden. The walk keeps
only what hiding needs (digests of requested paths, whiteouts, opaque directories and
symlinks; nothing for the base layer, walked last), so its memory does not grow with the
bytes in the image and grows by tens of bytes per requested file.

Analyzers receive only the files their ``FileRequest`` names, each under a size cap, and
only those its ``accept`` test (a keyword prefilter run on the bytes in hand) lets through;
requests whose results for a layer are already cached are left out of that layer's walk.
Every layer's uncompressed stream is hashed and checked against its ``diff_id``, and one
``ScanBudget`` bounds bytes, entries, path length and depth, and temporary disk. A layer
that cannot be read to the end raises ``LayerError`` naming the image, the layer and the
file being read; an exhausted budget raises ``BudgetExceeded`` naming the budget.

Modules: ``paths`` (names as text, the compact path sets), ``hits`` (what is handed over),
``deliver`` (reading a file once for every request), ``layer`` (one tar layer), ``local``
(a ``dir:`` tree, iteratively), ``image`` (an image's layers, streamed from the event loop).
"""

from services.engine.walk.hits import FileHit, OnHit, OnLayer, OnSkip, OnVerified, Skipped
from services.engine.walk.image import walk_image
from services.engine.walk.layer import LayerWalker
from services.engine.walk.paths import OPAQUE_MARKER, WHITEOUT_PREFIX, normalize, text_name

__all__ = [
    "OPAQUE_MARKER",
    "WHITEOUT_PREFIX",
    "FileHit",
    "LayerWalker",
    "OnHit",
    "OnLayer",
    "OnSkip",
    "OnVerified",
    "Skipped",
    "normalize",
    "text_name",
    "walk_image",
]
