"""pyproject.toml, uv.lock and the requirements files pip reads all say the same versions.

Dependencies are declared in pyproject.toml, resolved into uv.lock, and exported into
requirements.txt (the app) and requirements-dev.txt (the app and the tests) by scripts/lock.
A package added to one and not the others would install differently by uv and by pip, or
in CI and on a laptop: these tests fail then, naming the command that mends it. They read
files only; nothing is resolved and nothing goes over the network.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
RELOCK = "declare packages in pyproject.toml (uv add NAME==X), then run scripts/lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")

Declared = set[tuple[str, str, tuple[str, ...]]]


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _lock() -> dict[str, Any]:
    return tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))


def _locked_packages() -> dict[str, dict[str, Any]]:
    """Each locked package by name (this lock has one version of each)."""
    packages: dict[str, dict[str, Any]] = {}
    for package in _lock()["package"]:
        name = canonicalize_name(package["name"])
        assert name not in packages, f"uv.lock holds two versions of {name}: pin it in one"
        packages[name] = package
    return packages


def _project(packages: dict[str, dict[str, Any]]) -> dict[str, Any]:
    name = canonicalize_name(_pyproject()["project"]["name"])
    return packages[name]


def _reachable(packages: dict[str, dict[str, Any]], roots: Iterable[dict[str, Any]]) -> set[str]:
    """Every package the dependency entries `roots` pull in, extras included."""
    found: set[str] = set()
    expanded: set[tuple[str, str]] = set()  # (package, extra); "" is the package itself
    pending = list(roots)
    while pending:
        dependency = pending.pop()
        name = canonicalize_name(dependency["name"])
        found.add(name)
        for extra in ("", *dependency.get("extra", [])):
            if (name, extra) not in expanded:
                expanded.add((name, extra))
                package = packages[name]
                more = package.get("optional-dependencies", {}).get(extra, [])
                pending.extend(more if extra else package.get("dependencies", []))
    return found


def _pins(file_name: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / file_name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith(("#", "--")):
            match = _PIN.match(line)
            assert match, f"{file_name}: {line!r} is not a pin; {RELOCK}"
            pins[canonicalize_name(match[1])] = match[2]
    return pins


def _declared(requirements: Iterable[str]) -> Declared:
    parsed = (Requirement(text) for text in requirements)
    return {
        (canonicalize_name(req.name), str(req.specifier), tuple(sorted(req.extras)))
        for req in parsed
    }


def _locked_declarations(entries: Iterable[dict[str, Any]]) -> Declared:
    return {
        (
            canonicalize_name(entry["name"]),
            str(SpecifierSet(entry.get("specifier", ""))),
            tuple(sorted(entry.get("extras", []))),
        )
        for entry in entries
    }


def _assert_same_pins(file_name: str, pins: dict[str, str], wanted: dict[str, str]) -> None:
    by_hand = {name: version for name, version in pins.items() if name not in wanted}
    assert not by_hand, f"{file_name} has {by_hand}, which uv.lock does not: {RELOCK}"
    missing = sorted(set(wanted) - set(pins))
    assert not missing, f"{file_name} lacks {missing}, which uv.lock pins: run scripts/lock"
    differ = {name: (pins[name], wanted[name]) for name in pins if pins[name] != wanted[name]}
    assert not differ, f"{file_name} pins other versions than uv.lock {differ}: run scripts/lock"


def test_the_lock_holds_what_pyproject_declares() -> None:
    pyproject = _pyproject()
    metadata = _project(_locked_packages())["metadata"]
    stale = "uv.lock was resolved from other declarations than pyproject.toml's: run scripts/lock"
    runtime = _declared(pyproject["project"]["dependencies"])
    assert runtime == _locked_declarations(metadata.get("requires-dist", [])), stale
    for group, requirements in pyproject["dependency-groups"].items():
        locked = metadata.get("requires-dev", {}).get(group, [])
        assert _declared(requirements) == _locked_declarations(locked), stale


def test_requirements_txt_pins_the_apps_packages_as_locked() -> None:
    packages = _locked_packages()
    app = _reachable(packages, _project(packages)["dependencies"])
    wanted = {name: packages[name]["version"] for name in app}
    _assert_same_pins("requirements.txt", _pins("requirements.txt"), wanted)


def test_requirements_dev_txt_pins_the_apps_and_the_tests_packages_as_locked() -> None:
    packages = _locked_packages()
    project = _project(packages)
    roots = [*project["dependencies"], *project["dev-dependencies"]["dev"]]
    wanted = {name: packages[name]["version"] for name in _reachable(packages, roots)}
    _assert_same_pins("requirements-dev.txt", _pins("requirements-dev.txt"), wanted)


def test_every_pin_pip_reads_carries_a_hash() -> None:
    # pip checks every download against these; one pin without a hash stops the pip path.
    for file_name in ("requirements.txt", "requirements-dev.txt"):
        text = (ROOT / file_name).read_text(encoding="utf-8")
        for entry in re.split(r"\n(?=[A-Za-z0-9])", text):
            if _PIN.match(entry):
                assert "--hash=sha256:" in entry, f"{file_name}: {entry!r} has no hash: {RELOCK}"


def test_the_scripts_and_the_image_install_the_uv_pyproject_requires() -> None:
    required = SpecifierSet(_pyproject()["tool"]["uv"]["required-version"])
    script = (ROOT / "scripts" / "_uv.sh").read_text(encoding="utf-8")
    installed = re.search(r"^UV_VERSION=(\S+)$", script, re.MULTILINE)
    assert installed, "scripts/_uv.sh no longer names the uv it installs (UV_VERSION=...)"
    assert installed[1] in required
    dockerfile = (ROOT / "docs" / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert f"ghcr.io/astral-sh/uv:{installed[1]} " in dockerfile
