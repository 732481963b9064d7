"""yarn.lock, classic and berry, generated for real from ``srv/lock-v3/package.json``.

``srv/yarn-classic/yarn.lock``: yarn 1.22.22 (``yarn install``); ``srv/yarn-berry/yarn.lock``:
yarn 4.5.3 (``@yarnpkg/cli-dist``, ``yarn install --mode=update-lockfile``, lockfile
``__metadata.version: 8``). The malformed copies drop a version line / break the YAML.
"""

from pathlib import Path

import pytest

from services.engine.catalogers.javascript.parse_yarn_lock import parse_yarn_lock, spec_name

HERE = Path(__file__).parent

# yarn.lock does not record which entries only development needs: is-buffer is in
ALL = {
    ("@types/busboy", "1.5.0"),
    ("@types/node", "26.6.6"),
    ("is-buffer", "1.1.6"),
    ("minimist", "1.2.0"),
    ("minimist", "1.2.8"),
    ("minimist", "0.0.10"),
    ("optimist", "0.6.1"),
    ("undici-types", "8.9.0"),
    ("wordwrap", "1.0.0"),
    ("wordwrap", "0.0.3"),
}


def _parse(rel: str, testdata: str = "testdata"):
    return parse_yarn_lock(rel, (HERE / testdata / rel).read_bytes())


@pytest.mark.parametrize("rel", ["srv/yarn-classic/yarn.lock", "srv/yarn-berry/yarn.lock"])
def test_classic_and_berry_list_the_same_packages(rel: str) -> None:
    result = _parse(rel)
    assert result.problems == []
    assert {p.key() for p in result.packages} == ALL  # the berry workspace entry (the project) is not
    assert len(result.packages) == len(ALL)
    assert all(
        p.declared and p.namespace == ("@types" if p.name.startswith("@") else "") for p in result.packages
    )


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ('"@babel/code-frame@^7.0.0"', "@babel/code-frame"),
        ("lodash@^4.17.15", "lodash"),
        ('"mm@npm:minimist@1.2.8"', "minimist"),
        ("minimist@npm:1.2.8", "minimist"),
        ('"@types/node@npm:*"', "@types/node"),
        ("nameonly", ""),
    ],
)
def test_specifier_names(spec: str, name: str) -> None:
    assert spec_name(spec) == name


def test_entry_without_version_is_a_problem() -> None:
    result = _parse("srv/yarn-no-version/yarn.lock", "testdata-malformed")
    assert ("undici-types", "8.9.0") not in {p.key() for p in result.packages}
    assert len(result.packages) == len(ALL) - 1
    assert result.problems == [
        "srv/yarn-no-version/yarn.lock: entry 'undici-types' at line 47 has no version"
    ]


def test_broken_berry_yaml_is_a_problem() -> None:
    result = _parse("srv/berry-bad-yaml/yarn.lock", "testdata-malformed")
    assert result.packages == []
    [problem] = result.problems
    assert problem.startswith("srv/berry-bad-yaml/yarn.lock: yarn berry lockfile is not valid YAML at line ")


def test_lockfiles_inside_node_modules_are_skipped() -> None:
    data = (HERE / "testdata/srv/yarn-classic/yarn.lock").read_bytes()
    assert parse_yarn_lock("app/node_modules/dep/yarn.lock", data).packages == []
