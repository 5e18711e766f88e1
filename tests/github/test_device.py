"""GitHub's device flow over real HTTP against its fake: codes, polling rules, the login."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.github.device import DeviceFlow, web_base_for
from bot.runtime import NonRetriableError, RetriableError
from tests.fakes.github_device import FakeDeviceFlow
from tests.loopback import free_port

CLIENT_ID = "Iv1.0123456789abcdef"


@pytest.fixture
async def github() -> AsyncIterator[FakeDeviceFlow]:
    """Yield a started fake of the device flow."""
    async with FakeDeviceFlow(client_id=CLIENT_ID) as fake:
        yield fake


def flow_for(github: FakeDeviceFlow, client_id: str = CLIENT_ID) -> DeviceFlow:
    """Return the client pointed at the fake (web base derived from the API base)."""
    return DeviceFlow(client_id, api_base=github.api_base)


def test_the_web_base_derives_from_the_api_base() -> None:
    assert web_base_for("https://api.github.com") == "https://github.com"
    assert web_base_for("https://ghe.example.com/api/v3/") == "https://ghe.example.com"


async def test_approved_code_names_the_login_and_the_token_stays_inside(
    github: FakeDeviceFlow,
) -> None:
    flow = flow_for(github)
    code = await flow.start()
    assert code.verification_uri == github.base_url + "/login/device"
    assert (code.interval_s, code.expires_in_s) == (5, 900)
    assert (await flow.poll(code.device_code, 5)).status == "pending"
    github.clock.advance(5)
    github.approve(code.user_code, "octocat")
    granted = await flow.poll(code.device_code, 5)
    assert (granted.status, granted.login) == ("granted", "octocat")
    assert "ghu_" not in repr(granted)  # the access token is never handed out
    assert github.requests.log[-1][:3] == ("GET", "/api/v3/user", 200)
    github.clock.advance(5)
    with pytest.raises(NonRetriableError, match="incorrect_device_code"):
        await flow.poll(code.device_code, 5)  # a device code gives one token


async def test_polling_too_fast_slows_down_by_five_seconds(github: FakeDeviceFlow) -> None:
    flow = flow_for(github)
    code = await flow.start()
    await flow.poll(code.device_code, 5)
    slowed = await flow.poll(code.device_code, 5)  # no time passed
    assert (slowed.status, slowed.interval_s) == ("slow_down", 10)
    github.clock.advance(10)
    assert (await flow.poll(code.device_code, 10)).status == "pending"


async def test_denied_and_expired_codes_end_the_flow(github: FakeDeviceFlow) -> None:
    flow = flow_for(github)
    denied, expired = await flow.start(), await flow.start()
    github.deny(denied.user_code)
    assert (await flow.poll(denied.device_code, 5)).status == "denied"
    github.clock.advance(901)
    assert (await flow.poll(expired.device_code, 5)).status == "expired"


async def test_refusals_are_clear_and_final(github: FakeDeviceFlow) -> None:
    with pytest.raises(NonRetriableError, match="404"):
        await flow_for(github, "Iv1.unknown").start()
    github.enabled = False
    with pytest.raises(NonRetriableError, match="enable it in the GitHub App"):
        await flow_for(github).start()


async def test_no_answer_is_retriable() -> None:
    flow = DeviceFlow(CLIENT_ID, api_base=f"http://127.0.0.1:{free_port()}/api/v3")
    with pytest.raises(RetriableError, match="ConnectError"):
        await flow.start()
