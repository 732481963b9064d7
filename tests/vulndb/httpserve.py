"""A tiny file server for the update tests: ETag / Last-Modified and conditional GETs, like
the OSV bucket (and CISA's and FIRST's servers) answer them, with a log of what was asked."""

from __future__ import annotations

import email.utils
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web


@dataclass
class Served:
    """The running server: its base URL and one (path, If-None-Match, status) per request."""

    url: str
    log: list[tuple[str, str, int]] = field(default_factory=list)

    def statuses(self, path_end: str) -> list[int]:
        return [status for path, _, status in self.log if path.endswith(path_end)]


def _validators(file: Path) -> tuple[str, str]:
    st = file.stat()
    return f'"{st.st_mtime_ns:x}-{st.st_size:x}"', email.utils.formatdate(st.st_mtime, usegmt=True)


def _lookup(root: Path, rel: str) -> Path | None:
    file = (root / rel).resolve()
    return file if file.is_relative_to(root.resolve()) and file.is_file() else None


@asynccontextmanager
async def serve(root: Path, *, etag: bool = True) -> AsyncIterator[Served]:
    """Serve ``root`` on 127.0.0.1; ``etag=False`` sends only Last-Modified (validated by date)."""
    served = Served(url="")

    async def handler(request: web.Request) -> web.StreamResponse:
        rel = request.match_info["path"]
        file = _lookup(root, rel)
        inm = request.headers.get("If-None-Match", "")
        ims = request.headers.get("If-Modified-Since", "")

        def answer(status: int) -> None:
            served.log.append((request.path, inm or ims, status))

        if file is None:
            answer(404)
            return web.Response(status=404)
        tag, modified = _validators(file)
        headers = {"Last-Modified": modified}
        if etag:
            headers["ETag"] = tag
        unchanged = (etag and inm == tag) or (not etag and ims and ims == modified)
        if unchanged:
            answer(304)
            return web.Response(status=304, headers=headers)
        answer(200)
        return web.Response(body=file.read_bytes(), headers=headers, content_type="application/zip")

    app = web.Application()
    app.router.add_get("/{path:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    served.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield served
    finally:
        await runner.cleanup()
