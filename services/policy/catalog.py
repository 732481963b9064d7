"""The rulesets a process knows: the shipped ``default`` plus every YAML file of ``rulesets_dir``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from services.policy.rules import RulesetError, RulesetSpec, parse_ruleset
from services.policy.ruleset import DEFAULT_NAME, Ruleset, default_ruleset
from services.policy.suppress_accept import Acceptance, load_acceptance

__all__ = ["Rulesets", "load_ruleset_file", "load_rulesets"]


class Rulesets(Mapping[str, Ruleset]):
    """Rulesets by name; ``default`` is always present."""

    def __init__(self, by_name: Mapping[str, Ruleset]) -> None:
        """Wrap ``by_name``; prefer ``load_rulesets``."""
        self._by_name = dict(by_name)
        self._by_name.setdefault(DEFAULT_NAME, default_ruleset())

    def __getitem__(self, name: str) -> Ruleset:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._by_name))

    def __len__(self) -> int:
        return len(self._by_name)

    @property
    def default(self) -> Ruleset:
        """The ruleset of every environment without an assignment."""
        return self._by_name[DEFAULT_NAME]

    def require(self, name: str) -> Ruleset:
        """The ruleset called ``name``; ``RulesetError`` listing the known ones if there is none."""
        if name not in self._by_name:
            raise RulesetError(f"no ruleset named {name!r} (known: {', '.join(self)})")
        return self._by_name[name]


def load_ruleset_file(path: Path) -> Ruleset:
    """Parse one ruleset file; ``RulesetError`` naming the file if it cannot be read or is invalid."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RulesetError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    spec = parse_ruleset(str(path), data)
    return Ruleset.from_spec(spec, str(path), _acceptance(path, spec))


def _acceptance(path: Path, spec: RulesetSpec) -> Acceptance:
    """The ignore files and VEX documents a ruleset file names, relative to its directory."""
    if not (spec.ignore_files or spec.vex or spec.ignore_unfixed):
        return Acceptance()
    try:
        return load_acceptance(
            [path.parent / name for name in spec.ignore_files],
            [path.parent / name for name in spec.vex],
            ignore_unfixed=spec.ignore_unfixed,
        )
    except OSError as exc:
        raise RulesetError(f"{path}: cannot read {exc.filename}: {exc.strerror or exc}") from exc


def load_rulesets(directory: str = "") -> Rulesets:
    """The shipped default plus ``directory``'s ``*.yaml``/``*.yml`` files (a file may replace ``default``).

    Two files defining the same name are an error naming both.
    """
    found: dict[str, Ruleset] = {}
    if directory:
        root = Path(directory)
        if not root.is_dir():
            raise RulesetError(f"rulesets_dir {directory}: not a directory")
        for path in sorted([*root.glob("*.yaml"), *root.glob("*.yml")]):
            ruleset = load_ruleset_file(path)
            if ruleset.name in found:
                raise RulesetError(
                    f"{path}: ruleset {ruleset.name!r} is already defined in {found[ruleset.name].source}"
                )
            found[ruleset.name] = ruleset
    return Rulesets(found)
