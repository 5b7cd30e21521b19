"""scripts/_uv.sh: which way ./scripts/start, ./scripts/test and CI install, said in a line.

Each test sources a copy of the script in a folder of its own, on a PATH with no uv but a
stand-in where the test asks for one, and with a Python whose pip cannot install anything
where the test says so: nothing is downloaded, and this checkout's .venv-tools is not
touched.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UV_VERSION = re.search(
    r"^UV_VERSION=(\S+)$", (ROOT / "scripts" / "_uv.sh").read_text(encoding="utf-8"), re.M
)
assert UV_VERSION, "scripts/_uv.sh no longer names the uv it installs (UV_VERSION=...)"
PIP_FALLBACK = "installing with pip instead, from the same pins."


def _executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _set_up(
    tmp_path: Path, *, uv_on_path: str | None = None, pip_works: bool = True
) -> tuple[Path, dict[str, str]]:
    """A checkout holding scripts/_uv.sh, and the environment it is sourced in."""
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "_uv.sh", checkout / "scripts" / "_uv.sh")
    folders = [
        folder
        for folder in os.environ.get("PATH", "").split(os.pathsep)
        if folder and not (Path(folder) / "uv").exists()
    ]
    if uv_on_path is not None:
        tools = tmp_path / "tools"
        _executable(tools / "uv", f'#!/bin/sh\necho "uv {uv_on_path}"\n')
        folders.insert(0, str(tools))
    # A Python that runs as this one does, except that pip installs nothing (no network),
    # nor does the venv the script makes when this Python has no pip of its own (as in a
    # .venv uv made).
    refuse = "" if pip_works else 'case "$1 $2 $3" in "-m pip install"|"-m venv "*) exit 1;; esac\n'
    python = _executable(
        tmp_path / "python" / "python3", f'#!/bin/sh\n{refuse}exec "{sys.executable}" "$@"\n'
    )
    environment = {
        "PATH": os.pathsep.join(folders),
        "PYTHON": str(python),
        "HOME": str(tmp_path),
    }
    return checkout, environment


def _source(checkout: Path, environment: dict[str, str], **extra: str) -> tuple[str, str]:
    """What sourcing the script says, and the uv it chose ('' for pip)."""
    done = subprocess.run(
        ["bash", "-c", 'source scripts/_uv.sh && echo "chosen uv: [$uv]"'],
        cwd=checkout,
        env={**environment, **extra},
        capture_output=True,
        text=True,
        check=True,
    )
    said = done.stdout.splitlines()
    chosen = said.pop()
    return "\n".join(said), chosen.removeprefix("chosen uv: [").removesuffix("]")


def test_uv_on_the_path_is_used_and_named(tmp_path: Path) -> None:
    checkout, environment = _set_up(tmp_path, uv_on_path=UV_VERSION[1])

    said, uv = _source(checkout, environment)

    assert uv == str(tmp_path / "tools" / "uv")
    assert said == f"Using uv {UV_VERSION[1]} from the PATH ({uv})."
    assert not (checkout / ".venv-tools").exists()


def test_the_uv_kept_in_venv_tools_is_used_when_none_is_on_the_path(tmp_path: Path) -> None:
    checkout, environment = _set_up(tmp_path, pip_works=False)
    _executable(checkout / ".venv-tools" / "bin" / "uv", f'#!/bin/sh\necho "uv {UV_VERSION[1]}"\n')

    said, uv = _source(checkout, environment)

    assert uv == ".venv-tools/bin/uv"
    assert said == f"Using uv {UV_VERSION[1]} from .venv-tools/."


def test_without_uv_and_without_a_way_to_install_it_pip_installs_the_same_pins(
    tmp_path: Path,
) -> None:
    checkout, environment = _set_up(tmp_path, pip_works=False)

    said, uv = _source(checkout, environment)

    assert uv == ""
    assert said.splitlines() == [
        f"uv is not on the PATH: installing uv {UV_VERSION[1]} into .venv-tools/ with pip...",
        f"Could not install uv (see above): {PIP_FALLBACK}",
    ]


def test_an_older_uv_on_the_path_is_said_and_not_used(tmp_path: Path) -> None:
    checkout, environment = _set_up(tmp_path, uv_on_path="0.1.0", pip_works=False)

    said, uv = _source(checkout, environment)

    assert uv == ""
    assert said.splitlines()[0] == (
        f"uv 0.1.0 on the PATH ({tmp_path / 'tools' / 'uv'}) is older than {UV_VERSION[1]}: "
        f"installing uv {UV_VERSION[1]} into .venv-tools/ with pip..."
    )
    assert said.splitlines()[-1].endswith(PIP_FALLBACK)


def test_studio_installer_pip_asks_for_pip_even_with_uv_at_hand(tmp_path: Path) -> None:
    checkout, environment = _set_up(tmp_path, uv_on_path=UV_VERSION[1])

    said, uv = _source(checkout, environment, STUDIO_INSTALLER="pip")

    assert uv == ""
    assert said == "STUDIO_INSTALLER=pip: installing with pip, from the same pins."
