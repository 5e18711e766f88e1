"""Settings: from a mapping, secrets without defaults, placeholders and bad routing refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings, explain, load_settings, read_environment, settings_errors

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_have_no_secrets_and_use_the_embedded_store() -> None:
    s = load_settings({})
    assert s.github_webhook_secret is None
    assert s.discord_token is None
    assert s.embedded
    assert s.discord_api_base == "https://discord.com/api/v10"


def test_lists_and_pairs_parse() -> None:
    s = load_settings(
        {
            "REPO_CHANNELS": "octo/app=111, octo/*=222",
            "GITHUB_DISCORD_USERS": "octocat=1,hubot:2",
            "EXCLUDED_LABELS": "wip, do not review",
            "DISCORD_CHANNEL_ID": "",
        }
    )
    assert s.repo_channels == {"octo/app": "111", "octo/*": "222"}
    assert s.github_discord_users == {"octocat": "1", "hubot": "2"}
    assert s.excluded_labels == ["wip", "do not review"]
    assert s.discord_channel_id is None


@pytest.mark.parametrize("value", ["changeme", "<your token>", "your-secret-here", "xxxx"])
def test_placeholder_secrets_are_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        load_settings({"DISCORD_TOKEN": value})


@pytest.mark.parametrize(
    "name", ["GITHUB_WEBHOOK_SECRET", "DISCORD_TOKEN", "DASHBOARD_TOKEN", "GITHUB_TOKEN"]
)
def test_every_token_refuses_a_placeholder_and_takes_blank_as_unset(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        load_settings({name: "changeme"})
    assert settings_errors(caught.value) == [
        f"{name}: Value error, is a placeholder; set the real value or leave it unset"
    ]
    assert load_settings({name: "  "}).model_dump(by_alias=True)[name] is None


def test_each_setting_belongs_to_one_group() -> None:
    # A field declared by two groups would silently take the value of one of them.
    groups = [base for base in Settings.__mro__[1:] if base.__module__.startswith("bot.settings.")]
    declared = [name for group in groups for name in group.__annotations__]
    assert len(declared) == len(set(declared)) == len(Settings.model_fields)


def test_secret_values_never_appear_in_repr() -> None:
    s = load_settings({"DISCORD_TOKEN": "Mz.real-token-value", "GITHUB_WEBHOOK_SECRET": "s3cr3t!"})
    assert "real-token-value" not in repr(s)
    assert "s3cr3t!" not in repr(s)


@pytest.mark.parametrize("routing", ["octo=1", "octo/app=abc", "=1"])
def test_bad_routing_is_refused(routing: str) -> None:
    with pytest.raises(ValidationError):
        load_settings({"REPO_CHANNELS": routing})


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("LOG_LEVEL=DEBUG\nREDIS_KEY_PREFIX=fromfile\n")
    merged = read_environment({"LOG_LEVEL": "WARNING"}, dotenv)
    assert merged["LOG_LEVEL"] == "WARNING"
    assert merged["REDIS_KEY_PREFIX"] == "fromfile"


def test_env_example_lists_every_setting_and_parses() -> None:
    example = ROOT / ".env.example"
    names = {
        line.split("=", 1)[0]
        for line in example.read_text().splitlines()
        if line and not line.startswith("#")
    }
    aliases = {field.alias for field in Settings.model_fields.values()}
    assert names == aliases
    load_settings(read_environment({}, example))


def test_auto_archive_accepts_only_discord_values() -> None:
    assert (
        load_settings({"THREAD_AUTO_ARCHIVE_MINUTES": "1440"}).thread_auto_archive_minutes == 1440
    )
    with pytest.raises(ValidationError, match="60, 1440, 4320 or 10080"):
        load_settings({"THREAD_AUTO_ARCHIVE_MINUTES": "30"})


def test_errors_name_the_setting_and_never_repeat_its_value() -> None:
    leaked = "MTIz.a-token-pasted-into-the-wrong-setting"
    values = {
        "DISCORD_CHANNEL_ID": leaked,
        "REPO_CHANNELS": f"octo/app=1,{leaked}",
        "GITHUB_DISCORD_USERS": leaked,
        "LOG_FORMAT": leaked,
        "WORKER_CONCURRENCY": leaked,
    }
    with pytest.raises(ValidationError) as caught:
        load_settings(values)
    lines = settings_errors(caught.value)
    assert {line.split(":")[0] for line in lines} == set(values)
    assert leaked not in explain(caught.value) and "input" not in explain(caught.value)
    assert "REPO_CHANNELS: Value error, entry 2: expected key=value" in lines


def test_log_level_is_a_level() -> None:
    assert load_settings({"LOG_LEVEL": " debug "}).log_level == "DEBUG"
    with pytest.raises(ValidationError, match="LOG_LEVEL"):
        load_settings({"LOG_LEVEL": "loud"})


@pytest.mark.parametrize("url", ["redis://[::1", "redis://:pw@h:abc/0", "http://h", "h:6379"])
def test_a_bad_redis_url_is_refused_without_being_repeated(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        load_settings({"REDIS_URL": url})
    assert explain(caught.value).startswith("invalid settings:\n  REDIS_URL: ")
    assert url not in explain(caught.value)


def test_redis_urls() -> None:
    for url in ("redis://:pw@redis:6379/0", "rediss://u:p@h/1", "unix:///run/redis.sock"):
        assert load_settings({"REDIS_URL": url}).redis_url == url


@pytest.mark.parametrize(
    ("value", "seconds"), [("90s", 90.0), ("30m", 1800.0), ("48h", 172800.0), ("2d", 172800.0)]
)
def test_review_reminder_after_is_a_duration(value: str, seconds: float) -> None:
    assert load_settings({"REVIEW_REMINDER_AFTER": value}).review_reminder_after == seconds
    assert load_settings({"REVIEW_REMINDER_AFTER": ""}).review_reminder_after is None


@pytest.mark.parametrize("value", ["2w", "48", "0h", "-1h", "h"])
def test_a_bad_reminder_duration_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="REVIEW_REMINDER_AFTER"):
        load_settings({"REVIEW_REMINDER_AFTER": value})


def test_digest_cron_takes_an_optional_time_zone() -> None:
    s = load_settings({"DIGEST_CRON": "TZ=Europe/Paris 0 9 * * 1-5", "DIGEST_CHANNEL_ID": "7"})
    schedule = s.digest_schedule
    assert schedule is not None and (schedule.expr, schedule.tz) == ("0 9 * * 1-5", "Europe/Paris")
    utc = load_settings({"DIGEST_CRON": "30 8 * * *", "DIGEST_CHANNEL_ID": "7"}).digest_schedule
    assert utc is not None and (utc.expr, utc.tz) == ("30 8 * * *", "UTC")
    assert load_settings({"DIGEST_CRON": " "}).digest_schedule is None


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 9 * * * 0", "expected 5 cron fields"),
        ("0 25 * * *", "invalid cron expression"),
        ("TZ=Mars/Olympus 0 9 * * *", "unknown time zone"),
    ],
)
def test_a_bad_digest_cron_is_refused(cron: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        load_settings({"DIGEST_CRON": cron, "DIGEST_CHANNEL_ID": "7"})


def test_the_digest_needs_its_channel() -> None:
    with pytest.raises(ValidationError, match="DIGEST_CRON needs DIGEST_CHANNEL_ID"):
        load_settings({"DIGEST_CRON": "0 9 * * *"})
