"""Webhook deliveries of the fake GitHub: real signed POSTs, the delivery API, redelivery."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from githubkit import TokenAuthStrategy
from githubkit.exception import RequestFailed

from tests.fakes.github_server import FakeGitHub
from tests.fakes.github_world import NAME, OWNER, GitHubWorld, client, rows, seed
from tests.fakes.http_fake import serve_app

SECRET = "It's a Secret to Everybody"


@dataclass
class Received:
    """One POST the receiver got."""

    headers: dict[str, str]
    body: bytes

    @property
    def signature_ok(self) -> bool:
        """Whether ``X-Hub-Signature-256`` is the HMAC of the exact body with ``SECRET``."""
        expected = "sha256=" + hmac.new(SECRET.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("X-Hub-Signature-256", ""))


@dataclass
class Receiver:
    """A real webhook target on loopback that answers ``status``."""

    url: str
    status: int = 200
    got: list[Received] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """Serve a webhook target that records what it receives."""
    target = Receiver(url="")

    async def receive(request: web.Request) -> web.Response:
        target.got.append(Received(dict(request.headers), await request.read()))
        return web.Response(status=target.status, text="ok")

    app = web.Application()
    app.router.add_post("/webhooks/github", receive)
    runner, port = await serve_app(app)
    target.url = f"http://127.0.0.1:{port}/webhooks/github"
    yield target
    await runner.cleanup()


@pytest.fixture
async def world() -> AsyncIterator[GitHubWorld]:
    """Yield the standard seeded world on a started fake."""
    async with FakeGitHub() as fake:
        yield seed(fake)


def payload(world: GitHubWorld, action: str = "opened", n: int = 1) -> dict[str, object]:
    """Return a small pull_request payload for the seeded repository."""
    return {
        "action": action,
        "number": n,
        "repository": {"id": world.repo.id, "full_name": world.repo.full_name},
        "installation": {"id": world.installation.id},
    }


async def test_delivery_reaches_the_target_signed(world: GitHubWorld, receiver: Receiver) -> None:
    hook = world.fake.add_repo_hook(world.repo, receiver.url, SECRET)
    delivery = await world.fake.deliver(hook, "pull_request", payload(world))
    assert (delivery.status_code, delivery.status, delivery.redelivery) == (200, "OK", False)
    [got] = receiver.got
    assert got.signature_ok
    assert got.headers["X-GitHub-Event"] == "pull_request"
    assert got.headers["X-GitHub-Delivery"] == delivery.guid
    assert got.headers["X-GitHub-Hook-ID"] == str(hook.id)
    assert json.loads(got.body)["action"] == "opened"
    assert (delivery.action, delivery.repository_id) == ("opened", world.repo.id)
    assert delivery.installation_id == world.installation.id


async def test_failed_attempts_are_recorded(world: GitHubWorld, receiver: Receiver) -> None:
    fake = world.fake
    hook = fake.add_repo_hook(world.repo, receiver.url, SECRET)
    receiver.status = 503
    answered = await fake.deliver(hook, "pull_request", payload(world))
    assert (answered.status_code, answered.status) == (503, "Invalid HTTP Response: 503")
    down = fake.add_repo_hook(world.repo, "http://127.0.0.1:9/unreachable", SECRET)
    refused = await fake.deliver(down, "pull_request", payload(world))
    assert (refused.status_code, refused.status) == (0, "failed to connect to host")


async def test_listing_is_newest_first_with_cursor_links(
    world: GitHubWorld, receiver: Receiver
) -> None:
    fake = world.fake
    hook = fake.add_repo_hook(world.repo, receiver.url, SECRET)
    sent = [await fake.deliver(hook, "pull_request", payload(world, n=n)) for n in range(5)]
    github = world.as_user()
    repos = github.rest.repos
    first = await repos.async_list_webhook_deliveries(OWNER, NAME, hook.id, per_page=2)
    assert [d.id for d in rows(first.parsed_data)] == [sent[4].id, sent[3].id]
    assert 'rel="next"' in first.headers["link"]
    assert f"cursor=v1_{sent[2].id}" in first.headers["link"]
    every = github.rest.paginate(
        repos.async_list_webhook_deliveries, owner=OWNER, repo=NAME, hook_id=hook.id, per_page=2
    )
    assert [d.guid async for d in every] == [d.guid for d in reversed(sent)]
    one = (await repos.async_get_webhook_delivery(OWNER, NAME, hook.id, sent[0].id)).parsed_data
    assert one.request.headers is not None
    assert one.request.model_dump()["headers"]["X-GitHub-Delivery"] == sent[0].guid


async def test_redelivery_resends_the_same_guid(world: GitHubWorld, receiver: Receiver) -> None:
    fake = world.fake
    hook = fake.add_repo_hook(world.repo, receiver.url, SECRET)
    receiver.status = 503
    failed = await fake.deliver(hook, "pull_request", payload(world))
    receiver.status = 200
    github = world.as_user()
    repos = github.rest.repos
    accepted = await repos.async_redeliver_webhook_delivery(OWNER, NAME, hook.id, failed.id)
    assert accepted.status_code == 202
    await fake.settle()
    first, again = receiver.got
    assert again.signature_ok
    assert again.body == first.body
    assert again.headers["X-GitHub-Delivery"] == first.headers["X-GitHub-Delivery"] == failed.guid
    newest = rows((await repos.async_list_webhook_deliveries(OWNER, NAME, hook.id)).parsed_data)
    assert [(d.guid, d.redelivery, d.status_code) for d in newest] == [
        (failed.guid, True, 200),
        (failed.guid, False, 503),
    ]
    only_failed = await repos.async_list_webhook_deliveries(OWNER, NAME, hook.id, status="failure")
    assert [d.id for d in rows(only_failed.parsed_data)] == [failed.id]


async def test_recorded_history_without_sending(world: GitHubWorld) -> None:
    hook = world.fake.add_repo_hook(world.repo, "http://127.0.0.1:9/", SECRET)
    world.fake.hooks.record(hook, "pull_request", payload(world), status_code=0)
    github = world.as_user()
    listed = await github.rest.repos.async_list_webhook_deliveries(OWNER, NAME, hook.id)
    assert [(r.status_code, r.status) for r in rows(listed.parsed_data)] == [
        (0, "failed to connect to host")
    ]


async def test_app_hook_deliveries_need_the_jwt(world: GitHubWorld, receiver: Receiver) -> None:
    fake = world.fake
    hook = fake.set_app_hook(world.app, receiver.url, SECRET)
    sent = await fake.deliver(hook, "pull_request", payload(world))
    github = world.as_app()
    apps = github.rest.apps
    listed = await apps.async_list_webhook_deliveries()
    assert [r.guid for r in rows(listed.parsed_data)] == [sent.guid]
    await apps.async_redeliver_webhook_delivery(sent.id)
    await fake.settle()
    assert [r.headers["X-GitHub-Delivery"] for r in receiver.got] == [sent.guid, sent.guid]
    assert receiver.got[1].headers["X-GitHub-Hook-Installation-Target-Type"] == "integration"
    user = world.as_user()
    with pytest.raises(RequestFailed) as refused:
        await user.rest.apps.async_list_webhook_deliveries()
    assert refused.value.response.status_code == 401


async def test_org_hook_deliveries(world: GitHubWorld, receiver: Receiver) -> None:
    fake = world.fake
    hook = fake.add_org_hook(OWNER, receiver.url, SECRET)
    sent = await fake.deliver(hook, "pull_request", payload(world))
    admin = fake.add_token("root", scopes=("admin:org_hook",))
    github = world.as_user()
    with pytest.raises(RequestFailed) as refused:  # The seeded token has only "repo".
        await github.rest.orgs.async_list_webhook_deliveries(OWNER, hook.id)
    assert refused.value.response.status_code == 404
    orgs_admin = client(fake, TokenAuthStrategy(admin.value))
    listed = await orgs_admin.rest.orgs.async_list_webhook_deliveries(OWNER, hook.id)
    assert [r.id for r in rows(listed.parsed_data)] == [sent.id]
    await orgs_admin.rest.orgs.async_redeliver_webhook_delivery(OWNER, hook.id, sent.id)
    await fake.settle()
    assert len(receiver.got) == 2 and receiver.got[1].signature_ok
