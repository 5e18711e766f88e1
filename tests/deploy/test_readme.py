"""The README's deployment documentation agrees with the code: every setting, its default."""

from __future__ import annotations

import re

from bot.settings import Settings
from tests.deploy import ROOT

ROW = re.compile(r"^\| `([A-Z0-9_]+)` \| ([^|]*) \| ([^|]*) \| ([^|]*) \|$", re.M)


def readme() -> str:
    """Return the README."""
    return (ROOT / "README.md").read_text(encoding="utf-8")


def configuration_rows() -> dict[str, str]:
    """Return setting -> default cell of the README's configuration table."""
    section = readme().split("## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return {m[1]: m[2].strip() for m in ROW.finditer(section)}


def env_example() -> dict[str, str]:
    """Return setting -> value of .env.example (its values are the defaults)."""
    found = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            found[name] = value
    return found


def test_the_configuration_table_lists_every_setting_of_env_example_in_order() -> None:
    assert list(configuration_rows()) == list(env_example())
    aliases = {f.alias for f in Settings.model_fields.values()}
    assert set(configuration_rows()) == aliases


def test_the_defaults_in_the_table_are_the_defaults() -> None:
    for name, value in env_example().items():
        cell = configuration_rows()[name]
        assert cell == (f"`{value}`" if value else "—"), name


def test_the_deployment_sections_are_there() -> None:
    headings = re.findall(r"^## (.+)$", readme(), re.M)
    for wanted in ("Quick start", "GitHub setup", "Discord setup", "Deploy", "Configuration"):
        assert wanted in headings
    for wanted in ("Operations", "How it works", "Architecture", "Commands", "Benchmarks"):
        assert wanted in headings
    assert headings[-1] == "Development"
    assert "```mermaid" in readme() and "/webhooks/github" in readme()
    assert "`prbot check`" in readme()


def test_quick_start_output_is_the_golden_replay_transcript() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```text\n", readme.index("The first command replays")) + len("```text\n")
    shown = readme[start : readme.index("\n```\n", start)]
    golden = (ROOT / "fixtures/scenarios/pr-lifecycle/transcript.txt").read_text(encoding="utf-8")
    assert re.sub(r"; \d+\.\d+ s$", "", shown, flags=re.M).rstrip() == golden.rstrip()


def test_the_reminders_excerpt_is_from_the_golden_replay_transcript() -> None:
    text = readme()
    start = text.index("```text\n", text.index("## Review reminders")) + len("```text\n")
    shown = text[start : text.index("\n```\n", start)].splitlines()
    golden = (ROOT / "fixtures/scenarios/review-reminders/transcript.txt").read_text(
        encoding="utf-8"
    )
    assert "\n".join(shown) in golden
