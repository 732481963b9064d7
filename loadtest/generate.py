"""Synthetic fleets: JSONL of ``ImageDiscovered`` events, byte for byte as inventory publishes them.

A fleet is ``clusters`` clusters running ``images_per_cluster`` images each, drawn from a
catalogue of ``digests`` distinct images spread over ``registries`` registries. Popularity
follows a Zipf law (exponent ``skew``): a few base images run in nearly every cluster, most
images in a handful — the heavy digest overlap dedupe exists for. Every catalogue image is
placed at least once while there are slots for it, so the distinct digests of a fleet equal
``digests`` whenever ``clusters * images_per_cluster >= digests``.

The output depends only on the parameters: the same spec gives the same bytes.

    python -m loadtest.generate --clusters 1000 --images-per-cluster 100 --digests 3000 --out fleet.jsonl
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import random
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from schemas import ImageDiscovered, encode_event

__all__ = ["CatalogueImage", "FleetSpec", "generate", "read_jsonl", "write_jsonl"]

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class FleetSpec(msgspec.Struct, frozen=True, kw_only=True):
    """The shape of a synthetic fleet."""

    clusters: int = 1000
    images_per_cluster: int = 100
    digests: int = 3000
    registries: int = 4
    seed: int = 0
    skew: float = 1.0  # Zipf exponent of image popularity; 0 is uniform

    @property
    def events(self) -> int:
        """How many sightings the fleet has."""
        return self.clusters * self.images_per_cluster

    def problems(self) -> list[str]:
        """What is wrong with the spec, as text naming the parameter; empty when it is usable."""
        out = [
            f"{name} must be at least 1 (got {value})"
            for name, value in (
                ("clusters", self.clusters),
                ("images_per_cluster", self.images_per_cluster),
                ("digests", self.digests),
                ("registries", self.registries),
            )
            if value < 1
        ]
        if self.images_per_cluster > self.digests:
            out.append(
                f"images_per_cluster ({self.images_per_cluster}) cannot exceed digests ({self.digests}): "
                "a cluster runs each image at most once"
            )
        if self.skew < 0:
            out.append(f"skew must not be negative (got {self.skew})")
        return out


class CatalogueImage(msgspec.Struct, frozen=True):
    """One distinct image of the fleet's catalogue."""

    registry: str
    repository: str
    tag: str
    digest: str
    size_bytes: int


def catalogue(spec: FleetSpec) -> list[CatalogueImage]:
    """The distinct images, most popular first; digests are derived from the seed and the rank."""
    rng = random.Random(f"catalogue:{spec.seed}")
    images = []
    for rank in range(spec.digests):
        digest = "sha256:" + hashlib.sha256(f"assay-loadtest:{spec.seed}:{rank}".encode()).hexdigest()
        team, app = rng.randrange(40), rank
        images.append(
            CatalogueImage(
                registry=f"registry-{rank % spec.registries}.example.com",
                repository=f"team-{team:02d}/app-{app:05d}",
                tag=f"v{rng.randrange(1, 6)}.{rng.randrange(20)}.{rng.randrange(10)}",
                digest=digest,
                size_bytes=rng.randrange(5, 900) * 1024 * 1024,
            )
        )
    return images


def generate(spec: FleetSpec) -> Iterator[ImageDiscovered]:
    """The fleet's sightings, cluster after cluster, as an inventory crawl would publish them."""
    problems = spec.problems()
    if problems:
        raise ValueError("; ".join(problems))
    images = catalogue(spec)
    rng = random.Random(f"fleet:{spec.seed}")
    cumulative: list[float] = []
    total = 0.0
    for rank in range(spec.digests):
        total += 1.0 / (rank + 1) ** spec.skew
        cumulative.append(total)
    # Every image gets one guaranteed slot (while slots last), scattered over the fleet.
    guaranteed = list(range(spec.digests))
    rng.shuffle(guaranteed)
    slots = rng.sample(range(spec.events), min(spec.events, spec.digests))
    placed = dict(zip(slots, guaranteed, strict=False))
    for cluster in range(spec.clusters):
        environment = f"cluster:fleet-{cluster:04d}"
        discovered_at = (_EPOCH + timedelta(seconds=cluster)).isoformat().replace("+00:00", "Z")
        running: set[int] = set()
        first_slot = cluster * spec.images_per_cluster
        forced = [placed[s] for s in range(first_slot, first_slot + spec.images_per_cluster) if s in placed]
        running.update(forced)
        draws = 0
        while len(running) < spec.images_per_cluster:
            draws += 1
            # A very steep skew keeps drawing the same few images: fall back to uniform draws.
            if draws <= 20 * spec.images_per_cluster:
                running.add(bisect.bisect_left(cumulative, rng.random() * total))
            else:
                running.add(rng.randrange(spec.digests))
        for rank in sorted(running):
            image = images[rank]
            yield ImageDiscovered(
                environment=environment,
                registry=image.registry,
                repository=image.repository,
                tag=image.tag,
                digest=image.digest,
                discovered_at=discovered_at,
                size_bytes=image.size_bytes,
            )


def write_jsonl(events: Iterable[ImageDiscovered], path: Path) -> int:
    """Write one wire-encoded event per line; returns how many."""
    count = 0
    with path.open("wb") as out:
        for event in events:
            out.write(encode_event(event))
            out.write(b"\n")
            count += 1
    return count


def read_jsonl(path: Path) -> Iterator[tuple[str, bytes]]:
    """(digest, wire bytes) of each line; a line that is not an ``ImageDiscovered`` raises ValueError."""
    decoder = msgspec.json.Decoder(ImageDiscovered)
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line:
                continue
            try:
                event = decoder.decode(line)
            except msgspec.DecodeError as exc:
                raise ValueError(f"{path}:{number}: not an ImageDiscovered event: {exc}") from exc
            yield event.digest, line


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """The fleet parameters, shared by this script and ``loadtest.replay --generate``."""
    defaults = FleetSpec()
    parser.add_argument("--clusters", type=int, default=defaults.clusters)
    parser.add_argument("--images-per-cluster", type=int, default=defaults.images_per_cluster)
    parser.add_argument("--digests", type=int, default=defaults.digests, help="distinct images in the fleet")
    parser.add_argument("--registries", type=int, default=defaults.registries)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--skew", type=float, default=defaults.skew, help="Zipf exponent of popularity")


def spec_from_arguments(args: argparse.Namespace) -> FleetSpec:
    """The ``FleetSpec`` named by ``add_spec_arguments`` options."""
    return FleetSpec(
        clusters=args.clusters,
        images_per_cluster=args.images_per_cluster,
        digests=args.digests,
        registries=args.registries,
        seed=args.seed,
        skew=args.skew,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m loadtest.generate``: write a fleet and print its shape."""
    parser = argparse.ArgumentParser(prog="python -m loadtest.generate", description=__doc__.split("\n\n")[0])
    add_spec_arguments(parser)
    parser.add_argument("--out", type=Path, required=True, help="the JSONL file to write")
    args = parser.parse_args(argv)
    spec = spec_from_arguments(args)
    if problems := spec.problems():
        parser.error("; ".join(problems))
    digests: set[str] = set()

    def seen(events: Iterable[ImageDiscovered]) -> Iterator[ImageDiscovered]:
        for event in events:
            digests.add(event.digest)
            yield event

    count = write_jsonl(seen(generate(spec)), args.out)
    print(f"{args.out}: {count} events, {len(digests)} distinct digests, {count - len(digests)} repeats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
