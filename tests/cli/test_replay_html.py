"""`prbot replay --html`: the dry run's threads as a page that looks like Discord."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_forum_scenario_as_a_page(tmp_path: Path) -> None:
    page = tmp_path / "forum.html"
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--env-file", "/nonexistent", "replay",
         "fixtures/scenarios/forum", "--html", str(page)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"wrote {page}" in done.stdout
    assert "forum post 10001 created" in done.stdout  # the text transcript is still printed
    html = page.read_text(encoding="utf-8")
    thread = html[html.index('<section class="thread"') :]
    # The final name, the tags the forum shows, archived, and the bot's messages with embeds.
    assert "<h3>#7 Add French, German and Brazilian Portuguese greetings</h3>" in thread
    assert re.search(r'<span class="tag">merged</span>\s*<span class="tag">approved</span>', thread)
    assert '<span class="pill archived">Archived</span>' in thread
    assert thread.count('<article class="msg">') >= 5
    assert '<span class="app-tag">App</span>' in thread
    assert re.search(r'class="embed" style="border-left-color: #[0-9a-f]{6}"', thread)
    assert '<div class="field-name">Branches</div>' in thread
    assert (
        "renamed the thread to “#7 Add French, German and Brazilian Portuguese greetings”" in thread
    )
    assert "<script" not in html
