"""The layering in shared/DESIGN.md, as import-linter contracts (pyproject.toml), enforced."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "tree"
    for name in ("studio", "components", "pages"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_the_project_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("file", "line", "forbidden"),
    [
        ("pages/gallery.py", "from studio.store import Store", "studio.store"),
        ("components/media.py", "from studio.archive import Archive", "studio.archive"),
        ("components/job_cards.py", "import studio.jobs.engine", "studio.jobs"),
        ("studio/cli.py", "from studio.jobs.foxapi import FoxAPIClient", "studio.jobs"),
        ("studio/records.py", "import streamlit", "streamlit"),
        # Production code never imports the demo backend; only runtime and cli start it.
        (
            "studio/contact_sheet.py",
            "from studio.emulator.captions import draw_caption",
            "studio.emulator",
        ),
        ("components/frame.py", "import studio.emulator", "studio.emulator"),
    ],
)
def test_a_shortcut_past_a_layer_breaks_a_contract(
    tree_copy: Path, file: str, line: str, forbidden: str
) -> None:
    target = tree_copy / file
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert f"is not allowed to import {forbidden}" in " ".join(result.stdout.split())
