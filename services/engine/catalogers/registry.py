"""The explicit registry of catalogers: every entry must have parser tests with fixtures."""

from __future__ import annotations

from services.engine.catalogers.alpine import parse_apk_db
from services.engine.catalogers.alpm import parse_alpm_db
from services.engine.catalogers.binary import parse_classified_binary
from services.engine.catalogers.bitnami import parse_bitnami_spdx
from services.engine.catalogers.cocoapods import parse_podfile_lock
from services.engine.catalogers.conda import parse_conda_environment, parse_conda_meta
from services.engine.catalogers.cpp import parse_conan_lock, parse_conanfile
from services.engine.catalogers.dart import parse_pubspec, parse_pubspec_lock
from services.engine.catalogers.debian import package as debian
from services.engine.catalogers.dotnet import (
    parse_deps_json,
    parse_packages_config,
    parse_packages_lock,
    parse_packages_props,
    parse_portable_executable,
    parse_project_file,
)
from services.engine.catalogers.elixir import parse_mix_lock
from services.engine.catalogers.erlang import parse_otp_app, parse_rebar_lock
from services.engine.catalogers.gentoo import parse_portage_contents
from services.engine.catalogers.githubactions import parse_composite_action, parse_workflow
from services.engine.catalogers.golang import parse_go_binary, parse_go_mod
from services.engine.catalogers.gradle import parse_gradle_lockfile, parse_verification_metadata
from services.engine.catalogers.haskell import parse_cabal_freeze, parse_stack_lock, parse_stack_yaml
from services.engine.catalogers.homebrew import parse_formula
from services.engine.catalogers.interface import Cataloger
from services.engine.catalogers.java import parse_java_archive, parse_jvm_release, parse_pom_xml
from services.engine.catalogers.javascript import (
    parse_bun_lock,
    parse_package_json,
    parse_package_lock,
    parse_pnpm_lock,
    parse_yarn_lock,
)
from services.engine.catalogers.julia import parse_julia_manifest
from services.engine.catalogers.kernel import parse_linux_kernel
from services.engine.catalogers.lua import parse_rockspec
from services.engine.catalogers.nix import parse_store_path
from services.engine.catalogers.ocaml import parse_opam
from services.engine.catalogers.opkg import parse_opkg_status
from services.engine.catalogers.php import parse_composer_lock, parse_installed_json, parse_pear_registry
from services.engine.catalogers.python import (
    parse_egg_archive,
    parse_metadata,
    parse_pdm_lock,
    parse_pipfile_lock,
    parse_poetry_lock,
    parse_pylock,
    parse_requirements,
    parse_setup_py,
    parse_uv_lock,
)
from services.engine.catalogers.r import parse_description
from services.engine.catalogers.rpm import (
    parse_rpm_manifest,
    parse_rpmdb_bdb,
    parse_rpmdb_ndb,
    parse_rpmdb_sqlite,
)
from services.engine.catalogers.ruby import parse_gemfile_lock, parse_gemspec
from services.engine.catalogers.rust import parse_cargo_auditable, parse_cargo_lock
from services.engine.catalogers.scala import parse_sbt_lock
from services.engine.catalogers.swift import parse_package_resolved
from services.engine.catalogers.swipl import parse_pack
from services.engine.catalogers.terraform import parse_terraform_lock
from services.engine.catalogers.wordpress import parse_core_version, parse_plugin

CATALOGERS: tuple[Cataloger, ...] = (
    debian.CATALOGER,
    parse_apk_db.CATALOGER,
    parse_rpmdb_sqlite.CATALOGER,
    parse_rpmdb_bdb.CATALOGER,
    parse_rpmdb_ndb.CATALOGER,
    parse_rpm_manifest.CATALOGER,
    parse_opkg_status.CATALOGER,
    parse_alpm_db.CATALOGER,
    parse_portage_contents.CATALOGER,
    parse_metadata.CATALOGER,
    parse_requirements.CATALOGER,
    parse_poetry_lock.CATALOGER,
    parse_pipfile_lock.CATALOGER,
    parse_uv_lock.CATALOGER,
    parse_pdm_lock.CATALOGER,
    parse_pylock.CATALOGER,
    parse_setup_py.CATALOGER,
    parse_deps_json.CATALOGER,
    parse_portable_executable.CATALOGER,
    parse_packages_lock.CATALOGER,
    parse_packages_config.CATALOGER,
    parse_cargo_lock.CATALOGER,
    parse_go_mod.CATALOGER,
    parse_java_archive.CATALOGER,
    parse_gradle_lockfile.CATALOGER,
    parse_go_binary.CATALOGER,
    parse_cargo_auditable.CATALOGER,
    parse_package_json.CATALOGER,
    parse_package_lock.CATALOGER,
    parse_yarn_lock.CATALOGER,
    parse_pnpm_lock.CATALOGER,
    parse_bun_lock.CATALOGER,
    parse_installed_json.CATALOGER,
    parse_composer_lock.CATALOGER,
    parse_gemspec.CATALOGER,
    parse_gemfile_lock.CATALOGER,
    parse_mix_lock.CATALOGER,
    parse_rebar_lock.CATALOGER,
    parse_package_resolved.CATALOGER,
    parse_pubspec_lock.CATALOGER,
    parse_conan_lock.CATALOGER,
    parse_conda_meta.CATALOGER,
    parse_description.CATALOGER,
    parse_bitnami_spdx.CATALOGER,
    parse_podfile_lock.CATALOGER,
    parse_julia_manifest.CATALOGER,
    parse_packages_props.CATALOGER,
    parse_conda_environment.CATALOGER,
    parse_pear_registry.CATALOGER,
    parse_cabal_freeze.CATALOGER,
    parse_stack_lock.CATALOGER,
    parse_otp_app.CATALOGER,
    parse_rockspec.CATALOGER,
    parse_opam.CATALOGER,
    parse_pack.CATALOGER,
    parse_plugin.CATALOGER,
    parse_workflow.CATALOGER,
    parse_composite_action.CATALOGER,
    parse_classified_binary.CATALOGER,
    parse_sbt_lock.CATALOGER,
    parse_verification_metadata.CATALOGER,
    parse_core_version.CATALOGER,
    parse_pubspec.CATALOGER,
    parse_pom_xml.CATALOGER,
    parse_formula.CATALOGER,
    parse_jvm_release.CATALOGER,
    parse_project_file.CATALOGER,
    parse_egg_archive.CATALOGER,
    parse_store_path.CATALOGER,
    parse_linux_kernel.CATALOGER,
    parse_conanfile.CATALOGER,
    parse_stack_yaml.CATALOGER,
    parse_terraform_lock.CATALOGER,
)


def select(tags: tuple[str, ...] = ("image",)) -> tuple[Cataloger, ...]:
    """Catalogers carrying every one of ``tags``."""
    return tuple(c for c in CATALOGERS if all(t in c.tags for t in tags))
