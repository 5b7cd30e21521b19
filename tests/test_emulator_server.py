"""Running the emulator on a loopback port, from a background thread."""

from __future__ import annotations

import httpx
import pytest

from studio.emulator import EmulatorConfig, start_emulator


def test_each_emulator_gets_its_own_free_port_and_stops_serving_when_closed() -> None:
    with start_emulator() as first, start_emulator() as second:
        assert first.base_url != second.base_url
        assert httpx.get(f"{first.base_url}/_emulator/config", trust_env=False).status_code == 200

    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{first.base_url}/_emulator/config", trust_env=False, timeout=2)


def test_replacing_the_config_changes_how_the_running_emulator_answers() -> None:
    with start_emulator(EmulatorConfig(api_key="sk-one")) as running:
        running.config = EmulatorConfig(api_key="sk-two")

        answer = httpx.get(
            f"{running.base_url}/v1/tasks/task-unified-1-aaaaaaaa",
            headers={"Authorization": "Bearer sk-one"},
            trust_env=False,
        )

    assert answer.status_code == 401
