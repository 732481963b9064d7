"""The lock files agree with ``pyproject.toml``: what ``make lock`` made is what a fresh install gets.

``requirements/runtime.lock`` (the container image) pins the core dependencies and the build
requirements; ``requirements/dev.lock`` (``make venv``, CI) adds every extra, constrained to the
runtime lock's versions. Each test reads the committed files only: no resolver, no network.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "requirements" / "runtime.lock"
DEV = ROOT / "requirements" / "dev.lock"
BUILD_IN = ROOT / "requirements" / "build.in"
# markers are judged for the platform the locks are made for: CPython 3.11 on Linux
ENVIRONMENT = {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux",
               "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
               "platform_python_implementation": "CPython", "platform_machine": "x86_64"}  # fmt: skip
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")
_VIA_ROOTS = {"assay (pyproject.toml)", "-r requirements/build.in"}


class Locked:
    """One lock file: pins, whether each has hashes, and uv's ``# via`` edges."""

    def __init__(self, path: Path) -> None:
        self.pins: dict[str, str] = {}
        self.hashed: dict[str, bool] = {}
        self.via: dict[str, set[str]] = {}
        current = ""
        for line in path.read_text("utf-8").splitlines():
            if match := _PIN.match(line):
                current = canonicalize_name(match[1])
                self.pins[current] = match[2]
                self.hashed[current] = False
                self.via[current] = set()
            elif current and line.strip().startswith("--hash=sha256:"):
                self.hashed[current] = True
            elif current and line.strip().startswith("#"):
                text = line.strip().lstrip("#").strip()
                text = text.removeprefix("via").strip()
                if text:
                    self.via[current].add(text if " " in text else canonicalize_name(text))


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def _requirements(extras: bool) -> Iterator[Requirement]:
    """Every requirement the lock must satisfy: the project's (with extras when asked) and build.in's."""
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    lists = [project["dependencies"]]
    if extras:
        lists += list(project["optional-dependencies"].values())
    for entries in lists:
        for text in entries:
            req = Requirement(text)
            if canonicalize_name(req.name) != "assay":  # the self-reference of an extra to another
                yield req
    for line in BUILD_IN.read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            yield Requirement(line.split("#", 1)[0].strip())


def _unsatisfied(lock: Locked, extras: bool) -> list[str]:
    problems = []
    for req in _requirements(extras):
        if req.marker is not None and not req.marker.evaluate(ENVIRONMENT):
            continue
        pinned = lock.pins.get(canonicalize_name(req.name))
        if pinned is None:
            problems.append(f"{req} is not in the lock")
        elif not req.specifier.contains(pinned, prereleases=True):
            problems.append(f"{req} is locked at {pinned}")
    return problems


def _orphans(lock: Locked) -> list[str]:
    """Pins no root reaches through ``# via`` (left behind when a dependency was dropped)."""
    reached: set[str] = set()
    frontier = [name for name, via in lock.via.items() if via & _VIA_ROOTS]
    while frontier:
        name = frontier.pop()
        if name in reached:
            continue
        reached.add(name)
        frontier.extend(other for other, via in lock.via.items() if name in via and other not in reached)
    return sorted(set(lock.pins) - reached)


@pytest.mark.parametrize(("path", "extras"), [(RUNTIME, False), (DEV, True)], ids=["runtime", "dev"])
def test_every_requirement_is_pinned_at_a_version_it_allows(path: Path, extras: bool) -> None:
    assert _unsatisfied(Locked(path), extras) == []


@pytest.mark.parametrize("path", [RUNTIME, DEV], ids=["runtime", "dev"])
def test_every_pin_has_hashes_and_is_reached_from_pyproject(path: Path) -> None:
    lock = Locked(path)
    assert lock.pins, f"{path} pins nothing"
    assert [name for name, hashed in lock.hashed.items() if not hashed] == []
    assert _orphans(lock) == []


def test_the_dev_lock_keeps_the_runtime_versions() -> None:
    runtime, dev = Locked(RUNTIME), Locked(DEV)
    assert {
        name: (pin, dev.pins.get(name)) for name, pin in runtime.pins.items() if dev.pins.get(name) != pin
    } == {}


def test_the_build_requirements_are_locked() -> None:
    """``pip install --no-build-isolation`` uses the locked setuptools, so it must satisfy build-system."""
    build = _pyproject()["build-system"]
    assert isinstance(build, dict)
    lock = Locked(RUNTIME)
    for text in build["requires"]:
        req = Requirement(text)
        assert req.specifier.contains(lock.pins[canonicalize_name(req.name)], prereleases=True), text


def test_a_requirement_the_lock_does_not_satisfy_is_reported(tmp_path: Path) -> None:
    """The checks above can fail: a lock missing a pin, or pinning outside a range, is named."""
    text = DEV.read_text("utf-8")
    version = Locked(DEV).pins["msgspec"]
    broken = tmp_path / "dev.lock"
    broken.write_text(text.replace(f"msgspec=={version}", "msgspec==0.1.0"), "utf-8")
    assert any(p.startswith("msgspec") for p in _unsatisfied(Locked(broken), extras=True))
    dropped = "\n".join(line for line in text.splitlines() if not line.startswith("zstandard=="))
    broken.write_text(dropped, "utf-8")
    assert any("zstandard" in p and "not in the lock" in p for p in _unsatisfied(Locked(broken), extras=True))
