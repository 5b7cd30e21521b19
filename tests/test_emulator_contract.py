"""The emulator's own copy of FoxAPI's contract: the same as the client's, and its own.

The emulator validates with `studio.emulator.contract`, written from ../shared/foxapi.md,
and imports nothing of the client: a wrong table in the client must not pass the tests
that use the emulator as FoxAPI. The one studio module it may import is the text drawing
both share (`studio.lettering`), which holds no fact of the contract.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import httpx
import pytest

from studio import request as client_request
from studio.emulator import contract
from studio.request import GenerationRequest
from tests.emulator_support import (  # noqa: F401 (fixtures, used by name)
    client_fixture,
    emulator_fixture,
    generation,
    shared_emulator_fixture,
)

EMULATOR_PACKAGE = Path(contract.__file__).resolve().parent
# Modules that open connections: the emulator reads only its own store, never the network.
HTTP_CLIENTS = ("httpx", "requests", "urllib.request", "http.client", "aiohttp", "urllib3")
# Studio modules that know nothing of FoxAPI, shared by the emulator and the studio.
SHARED_WITH_THE_STUDIO = ("studio.lettering",)


def emulator_tables() -> dict[str, Any]:
    return {
        "MODEL": contract.MODEL,
        "RATIO_PIXELS": dict(contract.RATIO_PIXELS),
        "OUTPUT_FORMATS": set(contract.OUTPUT_FORMATS),
        "MAX_OUTPUTS": contract.MAX_OUTPUTS,
        "MAX_INPUT_IMAGES": contract.MAX_INPUT_IMAGES,
    }


def client_tables() -> dict[str, Any]:
    return {
        "MODEL": client_request.MODEL,
        "RATIO_PIXELS": dict(client_request.RATIO_PIXELS),
        "OUTPUT_FORMATS": set(client_request.OUTPUT_FORMATS),
        "MAX_OUTPUTS": client_request.MAX_OUTPUTS,
        "MAX_INPUT_IMAGES": client_request.MAX_INPUT_IMAGES,
    }


def drift() -> list[str]:
    """Names of the tables on which the emulator and the client disagree."""
    ours, theirs = emulator_tables(), client_tables()
    return [name for name in ours if ours[name] != theirs[name]]


def imported_modules(source: str, module: str) -> set[str]:
    """Every module that `source` (the text of `module`) imports, relative ones resolved."""
    found: set[str] = set()
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            # `from studio import request` imports the module studio.request.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def client_imports(source: str, module: str) -> list[str]:
    """The client's modules (anything under `studio` outside the emulator and the shared
    text drawing) that are imported."""
    return sorted(
        name
        for name in imported_modules(source, module)
        if name.startswith("studio.")
        and name != "studio.emulator"
        and not name.startswith("studio.emulator.")
        and not any(
            name == shared or name.startswith(f"{shared}.") for shared in SHARED_WITH_THE_STUDIO
        )
    )


def emulator_sources() -> dict[str, str]:
    return {
        "studio.emulator." + path.stem: path.read_text()
        for path in sorted(EMULATOR_PACKAGE.glob("*.py"))
    }


# -- the same facts as the client --------------------------------------------------------


def test_the_emulator_and_the_client_hold_the_same_contract() -> None:
    assert drift() == []
    assert len(contract.RATIO_PIXELS) == 13
    assert contract.DEFAULT_ASPECT_RATIO == client_request.DEFAULT_ASPECT_RATIO


@pytest.mark.parametrize("side", [contract, client_request], ids=["emulator", "client"])
@pytest.mark.parametrize(
    ("name", "wrong"),
    [
        ("MODEL", "grok-2-image"),
        ("RATIO_PIXELS", {**contract.RATIO_PIXELS, "16:9": (1344, 768)}),
        ("OUTPUT_FORMATS", ("jpg", "jpeg", "png")),
        ("MAX_OUTPUTS", 10),
        ("MAX_INPUT_IMAGES", 4),
    ],
)
def test_a_drift_on_either_side_is_caught(
    monkeypatch: pytest.MonkeyPatch, side: Any, name: str, wrong: Any
) -> None:
    monkeypatch.setattr(side, name, wrong)

    assert drift() == [name]


def test_the_emulator_statuses_are_ones_the_client_reads() -> None:
    from studio.task import TaskStatus as ClientStatus

    assert {status.value for status in contract.TaskStatus} <= {s.value for s in ClientStatus}


def test_the_emulator_judges_by_its_own_tables_not_the_clients(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_request, "RATIO_PIXELS", {"5:4": (1280, 1024)})
    monkeypatch.setattr(client_request, "MAX_OUTPUTS", 9)

    wrong_ratio = client.post("/v1/images/generations", json=generation(aspect_ratio="5:4"))
    too_many = client.post("/v1/images/generations", json=generation(num_outputs=9))
    documented = client.post("/v1/images/generations", json=generation(aspect_ratio="9:19.5"))

    assert wrong_ratio.status_code == 422
    assert too_many.status_code == 422
    assert documented.status_code == 200


# -- imports nothing of the client -------------------------------------------------------


def test_no_emulator_module_imports_a_client_module() -> None:
    sources = emulator_sources()
    assert "studio.emulator.contract" in sources

    offenders = {
        module: client_imports(source, module)
        for module, source in sources.items()
        if client_imports(source, module)
    }

    assert offenders == {}


@pytest.mark.parametrize(
    ("line", "caught"),
    [
        ("from studio.request import RATIO_PIXELS", "studio.request"),
        ("import studio.foxapi", "studio.foxapi"),
        ("from studio import settings", "studio.settings"),
        ("from ..task import Task", "studio.task"),
        ("from .. import errors", "studio.errors"),
        ("from . import drawing", None),
        ("from studio.emulator.contract import MODEL", None),
        ("from studio.lettering import lettering, wrap", None),
        ("from ..lettering import wrap", None),
        ("from studio.letteringx import wrap", "studio.letteringx"),
    ],
)
def test_the_import_check_catches_each_way_of_naming_a_client_module(
    line: str, caught: str | None
) -> None:
    found = client_imports(line, "studio.emulator.tasks")

    if caught is None:
        assert found == []
    else:
        assert caught in found


def test_no_emulator_module_imports_an_http_client() -> None:
    imported = {
        name
        for module, source in emulator_sources().items()
        for name in imported_modules(source, module)
    }

    assert imported.isdisjoint(HTTP_CLIENTS)


# -- the strict generation schema --------------------------------------------------------


def test_an_unknown_field_is_refused_with_422_naming_it(client: httpx.Client) -> None:
    response = client.post("/v1/images/generations", json=generation(seed=42))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unsupported_advanced_options"
    assert "seed" in error["message"]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"aspect_ratio": "5:4"}, "aspect_ratio"),
        ({"num_outputs": 5}, "num_outputs"),
        ({"num_outputs": 0}, "num_outputs"),
        ({"num_outputs": "2"}, "num_outputs"),
        ({"output_format": "gif"}, "output_format"),
        ({"model": "dall-e-3"}, "model"),
        ({"prompt": "   "}, "prompt"),
        ({"image_urls": ["http://127.0.0.1/a.png"] * 4}, "image_urls"),
        ({"image_urls": ["file:///etc/passwd"]}, "image_urls"),
        ({"image_urls": ["http://127.0.0.1/a.png"], "aspect_ratio": "1:1"}, "aspect_ratio"),
    ],
)
def test_an_invalid_value_is_refused_with_422_naming_the_field(
    client: httpx.Client, fields: dict[str, Any], named: str
) -> None:
    response = client.post("/v1/images/generations", json=generation(**fields))

    assert response.status_code == 422
    assert named in response.json()["error"]["message"]
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_the_studio_request_body_is_accepted_as_is(client: httpx.Client) -> None:
    body = GenerationRequest.build(prompt="a fox", num_outputs=4, aspect_ratio="20:9").body()

    assert client.post("/v1/images/generations", json=body).status_code == 200
