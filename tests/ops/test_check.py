"""`prbot check` against the fake Discord server and the test Redis: good and broken configs."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.discord.permissions import Permission
from bot.ops.check import run_checks, secrets_in
from bot.ops.check.verdicts import Check, Report, format_table, redact_url, summary
from tests.deploy import ROOT
from tests.discord.world import FORUM_TAGS
from tests.fakes.discord_models import Channel, Guild
from tests.fakes.discord_server import FakeDiscord

SECRET = "webhook-secret-for-check-tests-0123"
TOKEN = "discord-token-for-check-tests.0123456789"
VIEW, MANAGE = int(Permission.VIEW_CHANNEL), int(Permission.MANAGE_THREADS)
SEND = int(Permission.SEND_MESSAGES)


@dataclass
class Server:
    """A started fake Discord with a guild, a text channel, a full forum and an alert channel."""

    fake: FakeDiscord
    guild: Guild
    text: Channel
    forum: Channel
    alerts: Channel
    redis_url: str

    @property
    def bot_role(self) -> int:
        """Return the id of the role the bot holds."""
        return self.guild.member_roles[self.fake.state.bot.id][0]

    def env(self, **extra: str) -> dict[str, str]:
        """Return a valid configuration for this server; `extra` overrides or adds."""
        env = {
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_API_BASE": self.fake.api_base,
            "DISCORD_CHANNEL_ID": str(self.text.id),
            "REPO_CHANNELS": f"octo-org/forum-repo={self.forum.id}",
            "DISCORD_ALERT_CHANNEL_ID": str(self.alerts.id),
            "REDIS_URL": self.redis_url,
        }
        return {**env, **extra}


@pytest.fixture
async def server(redis_url: str) -> AsyncIterator[Server]:
    """Yield a started fake Discord that accepts TOKEN."""
    async with FakeDiscord(token=TOKEN) as fake:
        fake.state.app.flags = 1 << 19  # GATEWAY_MESSAGE_CONTENT_LIMITED: the switch is on
        guild = fake.add_guild()
        text = fake.add_text_channel(guild.id)
        forum = fake.add_forum_channel(guild.id, tags=FORUM_TAGS)
        alerts = fake.add_text_channel(guild.id, "alerts")
        yield Server(fake, guild, text, forum, alerts, redis_url)


async def rows(env: dict[str, str]) -> tuple[dict[str, Check], str | None]:
    """Run the checks and return the rows by name, and the invite URL if one was offered."""
    report, invite = await run_checks(env)
    return {c.name: c for c in report.checks}, invite


def failed(found: dict[str, Check]) -> dict[str, str]:
    """Return the ✘ rows: name -> detail."""
    return {name: c.detail for name, c in found.items() if c.status == "fail"}


async def test_a_good_configuration_passes(server: Server) -> None:
    found, invite = await rows(server.env())
    assert failed(found) == {} and invite is None
    assert found["GITHUB_WEBHOOK_SECRET"].detail == found["DISCORD_TOKEN"].detail == "set"
    assert found["Redis"].detail.endswith("answers")
    assert found["Discord login"].detail.startswith("logged in as prbot")
    assert found[f"channel {server.text.id} (default)"].detail == "#pull-requests: text channel"
    forum = found[f"channel {server.forum.id} (octo-org/forum-repo)"]
    assert forum.detail == "#pull-requests-forum: forum channel"
    assert "SEND_MESSAGES," in found[f"permissions in {server.forum.id}"].detail
    assert "SEND_MESSAGES," not in found[f"permissions in {server.text.id}"].detail
    tags = found[f"forum tags in {server.forum.id}"]  # every tag but the newer, optional one
    assert (tags.status, tags.detail.split(":")[0]) == ("warn", "missing checks failing (optional)")
    assert found[f"permissions in {server.alerts.id}"].status == "ok"


async def test_settings_that_do_not_parse_stop_at_one_row_without_their_values(
    server: Server,
) -> None:
    env = server.env(DISCORD_TOKEN="changeme", REPO_CHANNELS="octo-org=12", WORKER_CONCURRENCY="x")
    report, _ = await run_checks(env)
    [row] = report.checks
    assert (row.name, row.status) == ("settings", "fail")
    for name in ("DISCORD_TOKEN", "REPO_CHANNELS", "WORKER_CONCURRENCY"):
        assert name in row.detail
    assert "changeme" not in row.detail
    assert not server.fake.requests.records  # nothing was asked of Discord


async def test_missing_secrets_routing_and_a_bad_user_mapping(server: Server) -> None:
    env = server.env(
        GITHUB_WEBHOOK_SECRET="",
        DISCORD_CHANNEL_ID="",
        REPO_CHANNELS="",
        DISCORD_TOKEN="",
        GITHUB_DISCORD_USERS_FILE=str(ROOT / "no-such-users-file.txt"),
    )
    found, _ = await rows(env)
    wrong = {"GITHUB_WEBHOOK_SECRET", "DISCORD_TOKEN", "routing", "user mapping"}
    assert set(failed(found)) == wrong
    assert "--dry-run" in found["DISCORD_TOKEN"].detail  # `prbot serve` refuses to start without
    assert found["Discord"].status == "skip"  # no token: nothing asked of Discord
    unsigned, _ = await rows(server.env(GITHUB_WEBHOOK_SECRET="", ALLOW_UNSIGNED_WEBHOOKS="true"))
    assert unsigned["GITHUB_WEBHOOK_SECRET"].status == "warn"


async def test_a_bad_template_and_a_bad_user_id(server: Server) -> None:
    env = server.env(THREAD_NAME_TEMPLATE="#{nope}", GITHUB_DISCORD_USERS="octocat=abc")
    found, _ = await rows(env)
    assert set(failed(found)) == {"THREAD_NAME_TEMPLATE", "user mapping"}
    assert "'abc'" in found["user mapping"].detail


async def test_a_wrong_token_fails_the_login(server: Server) -> None:
    found, invite = await rows(server.env(DISCORD_TOKEN="not-the-token-we-accept"))
    assert set(failed(found)) == {"Discord login"}
    assert "401" in found["Discord login"].detail and invite is None


async def test_redis_that_does_not_answer_and_the_embedded_store(server: Server) -> None:
    down, _ = await rows(server.env(REDIS_URL="redis://:hunter22@127.0.0.1:1/0"))
    assert down["Redis"].status == "fail"
    assert "hunter22" not in down["Redis"].detail and ":***@127.0.0.1:1/0" in down["Redis"].detail
    embedded, _ = await rows(server.env(REDIS_URL=""))
    assert embedded["Redis"].status == "warn" and "embedded" in embedded["Redis"].detail


async def test_unknown_channels_and_wrong_kinds(server: Server) -> None:
    server.fake.state.channels[server.text.id].type = 2  # a voice channel
    env = server.env(REPO_CHANNELS="octo-org/*=123", DISCORD_ALERT_CHANNEL_ID=str(server.forum.id))
    found, invite = await rows(env)
    assert failed(found) == {
        f"channel {server.text.id} (default)": "#pull-requests is a voice channel, "
        "not a text or forum channel",
        "channel 123 (octo-org/*)": "does not exist, or the bot is not in its server",
        f"channel {server.forum.id} (alerts)": "#pull-requests-forum is a forum channel, "
        "not a text channel",
    }
    assert invite is not None


async def test_the_digest_channel_must_be_a_text_channel(server: Server) -> None:
    digest = server.fake.add_text_channel(server.guild.id, "digest")
    env = server.env(DIGEST_CRON="0 9 * * 1-5", DIGEST_CHANNEL_ID=str(digest.id))
    found, _ = await rows(env)
    assert failed(found) == {}
    assert found[f"channel {digest.id} (digest)"].detail == "#digest: text channel"
    assert found[f"permissions in {digest.id}"].status == "ok"
    found, _ = await rows(
        server.env(DIGEST_CRON="0 9 * * *", DIGEST_CHANNEL_ID=str(server.forum.id))
    )
    assert failed(found)[f"channel {server.forum.id} (digest)"] == (
        "#pull-requests-forum is a forum channel, not a text channel"
    )


async def test_a_channel_in_a_server_without_the_bot(server: Server) -> None:
    other = server.fake.add_guild("elsewhere")
    del other.member_roles[server.fake.state.bot.id]
    channel = server.fake.add_text_channel(other.id)
    found, _ = await rows(server.env(DISCORD_CHANNEL_ID=str(channel.id)))
    assert failed(found) == {
        f"channel {channel.id} (default)": f"the bot's membership of {other.id}: "
        "does not exist, or the bot is not in its server"
    }


def overwrite(id_: int, type_: int, allow: int = 0, deny: int = 0) -> dict[str, object]:
    """Return a permission overwrite as Discord sends it (bit sets as strings)."""
    return {"id": str(id_), "type": type_, "allow": str(allow), "deny": str(deny)}


async def test_channel_overwrites_that_take_permissions_away(server: Server) -> None:
    fake, guild = server.fake, server.guild
    hidden = fake.add_text_channel(guild.id, "hidden", permission_overwrites=[
        overwrite(guild.id, 0, deny=VIEW)])  # fmt: skip
    no_threads = fake.add_text_channel(guild.id, "no-manage", permission_overwrites=[
        overwrite(server.bot_role, 0, deny=MANAGE)])  # fmt: skip
    back = fake.add_text_channel(guild.id, "member-allows", permission_overwrites=[
        overwrite(server.bot_role, 0, deny=MANAGE),
        overwrite(fake.state.bot.id, 1, allow=MANAGE)])  # fmt: skip
    forum = fake.add_forum_channel(guild.id, "forum", tags=FORUM_TAGS, permission_overwrites=[
        overwrite(guild.id, 0, deny=SEND)])  # fmt: skip
    routes = f"a/hidden={hidden.id},a/nm={no_threads.id},a/back={back.id},a/forum={forum.id}"
    found, invite = await rows(server.env(REPO_CHANNELS=routes))
    assert failed(found) == {
        f"permissions in {hidden.id}": "missing VIEW_CHANNEL, so Discord denies all the others",
        f"permissions in {no_threads.id}": "missing MANAGE_THREADS",
        f"permissions in {forum.id}": "missing SEND_MESSAGES",
    }
    assert invite is not None and "permissions=326417599488" in invite


async def test_guild_roles_and_administrator(server: Server) -> None:
    fake = server.fake
    weak = fake.add_guild("weak", bot_permissions=0)
    # The @everyone role still grants the everyday permissions, not MANAGE_THREADS.
    channel = fake.add_text_channel(weak.id)
    found, _ = await rows(server.env(DISCORD_CHANNEL_ID=str(channel.id), REPO_CHANNELS=""))
    assert failed(found) == {f"permissions in {channel.id}": "missing MANAGE_THREADS"}
    fake.add_role(weak.id, "admin", permissions=int(Permission.ADMINISTRATOR), assign_to_bot=True)
    channel.permission_overwrites = [overwrite(weak.id, 0, deny=VIEW)]
    found, _ = await rows(server.env(DISCORD_CHANNEL_ID=str(channel.id), REPO_CHANNELS=""))
    assert failed(found) == {}


async def test_forum_tags_missing_or_mapped(server: Server) -> None:
    forum = server.fake.add_forum_channel(server.guild.id, "few-tags", tags=["Open", "Shipped"])
    env = server.env(REPO_CHANNELS=f"a/b={forum.id}")
    found, invite = await rows(env)
    assert invite is None  # tags are made in the forum: inviting again would not help
    assert failed(found) == {
        f"forum tags in {forum.id}": "missing draft, approved, changes requested, merged, "
        "closed, checks failing: create them in the forum, or map status names with FORUM_TAGS"
    }
    mapped = "draft=Open,approved=Open,changes_requested=Open,merged=Shipped,closed=Shipped"
    found, _ = await rows(server.env(REPO_CHANNELS=f"a/b={forum.id}", FORUM_TAGS=mapped))
    assert failed(found) == {}
    assert found[f"forum tags in {forum.id}"].status == "warn"
    every = mapped + ",checks_failing=Shipped"
    found, _ = await rows(server.env(REPO_CHANNELS=f"a/b={forum.id}", FORUM_TAGS=every))
    assert found[f"forum tags in {forum.id}"].status == "ok"


def test_the_table_marks_rows_and_blanks_secrets() -> None:
    report = Report()
    report.add("settings", "ok", "parse")
    report.add("Redis", "warn", "embedded")
    report.add("Discord login", "fail", f"echoed {TOKEN} back")
    report.add("Discord", "skip", "not checked")
    table = format_table(report.checks, [TOKEN, "", "ab"])
    assert table.splitlines() == [
        "✔ settings       parse",
        "! Redis          embedded",
        "✘ Discord login  echoed *** back",
        "– Discord        not checked",
    ]
    assert summary(report.checks) == "1 problem: fix the ✘ rows and run `prbot check` again"
    assert summary(report.checks[:2]) == "all checks passed (1 warning, marked !)"


def test_secrets_to_blank_out() -> None:
    env = {
        "DISCORD_TOKEN": f" {TOKEN} ",
        "GITHUB_WEBHOOK_SECRET": "",
        "REDIS_URL": "redis://:pw9@r/0",
    }
    assert secrets_in(env) == [TOKEN, "pw9"]
    assert secrets_in({"REDIS_URL": "redis://r:6379/0"}) == []


def test_redact_url() -> None:
    assert redact_url("redis://:pw@redis:6379/0") == "redis://:***@redis:6379/0"
    assert redact_url("rediss://user:pw@h/1") == "rediss://user:***@h/1"
    assert redact_url("redis://redis:6379/0") == "redis://redis:6379/0"


async def prbot_check(env: dict[str, str], cwd: str) -> tuple[int, str, str]:
    """Run the real `prbot check` command; return its exit code, stdout and stderr."""
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TEST_REDIS_URL")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "check", cwd=cwd, env={**clean, **env,
        "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.slow
async def test_the_command_prints_the_table_and_exits_non_zero_on_a_problem(
    server: Server, tmp_path: Path
) -> None:
    cwd = str(tmp_path)  # no .env there: only the environment counts
    code, out, err = await prbot_check(server.env(), cwd)
    assert code == 0, out + err
    assert out.splitlines()[-1].startswith("all checks passed")  # Redis persistence may warn
    assert "✔ DISCORD_TOKEN" in out and "✘" not in out
    server.fake.state.channels[server.forum.id].permission_overwrites = [
        overwrite(server.guild.id, 0, deny=SEND)
    ]
    code, out, err = await prbot_check(server.env(), cwd)
    assert code == 1
    assert f"✘ permissions in {server.forum.id}" in out and "missing SEND_MESSAGES" in out
    assert "oauth2/authorize?client_id=" in out
    for text in (out, err):
        assert SECRET not in text and TOKEN not in text
