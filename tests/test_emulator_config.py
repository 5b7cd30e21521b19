"""The emulator's knobs: read live, changed only to values that make sense."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from studio.emulator import EmulatorConfig, RunningEmulator
from tests.emulator_support import emulator_fixture, shared_emulator_fixture  # noqa: F401 (fixtures)


@pytest.mark.parametrize("plan", [[5, -1], "45", [True], ["soon"]])
def test_a_duration_plan_that_is_not_a_list_of_seconds_is_refused(
    emulator: RunningEmulator, plan: Any
) -> None:
    control = f"{emulator.base_url}/_emulator/config"

    refused = httpx.post(control, json={"duration_plan": plan}, trust_env=False)
    accepted = httpx.post(control, json={"duration_plan": [27, 31.5]}, trust_env=False)

    assert refused.status_code == 422
    assert "duration_plan" in refused.json()["error"]["message"]
    assert accepted.json()["duration_plan"] == [27.0, 31.5]


@pytest.mark.parametrize(
    ("patch", "named"),
    [
        ({"seed": 3}, "seed"),
        ({"balance": 2.5}, "balance"),
        ({"legacy_shape": "yes"}, "legacy_shape"),
        ({"api_key": ""}, "api_key"),
        ({"failure_rate": 0.5, "quirk_seconds": -1}, "quirk_seconds"),
    ],
)
def test_a_bad_patch_is_refused_naming_the_knob_and_changes_nothing(
    patch: dict[str, Any], named: str
) -> None:
    config = EmulatorConfig()

    with pytest.raises(ValueError, match=named):
        config.apply_patch(patch)

    assert config == EmulatorConfig()
