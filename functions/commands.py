"""Slash commands: `/pr status`, `/pr unlink`, `/prbot failed|replay|link`, `Post to PR`.

The route answered "thinking…" (deferred, only the member sees it); this run does the work
and edits that answer in (`/pr link`, which waits for GitHub, is `functions.linking`). Admin
commands check the member's permissions as the interaction carries them (Manage Server), not
only Discord's default command permissions, which a server may loosen.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable

from bot.github.device import web_base_for
from bot.github.payloads import parse
from bot.prs.answers import PREFIX, Answers, Command
from bot.prs.deps import Deps
from bot.prs.mapping import ThreadStore
from bot.prs.mirror import skip_reason
from bot.prs.mirroring import Mirror
from bot.prs.status import PrStatus, status_text
from bot.runtime import Context, Event, Function, function
from bot.runtime.inspect import age, get_run, list_runs
from bot.runtime.planner import parse_record
from functions import mirror

FUNCTION_ID = "discord-commands"
FAILED_SHOWN = 5
ERROR_KIND = re.compile(r"^\w+(?=:|$)")  # the `Type` of a run's `Type: message`
# https://github.com/shinnn/github-username-regex: 1-39 characters, single inner hyphens.
LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
NOT_ADMIN = "Only members who may manage this server can use `/prbot`."
NOT_A_PR_THREAD = "This is not the thread of a pull request prbot follows."
NO_GITHUB = (
    "Posting to GitHub is not available until prbot has GitHub API access "
    "(GITHUB_TOKEN or a GitHub App)."
)

Handler = Callable[[Context, Deps, Command], Awaitable[str]]


def is_login(text: str) -> bool:
    """Tell whether `text` can be a GitHub login."""
    return LOGIN.fullmatch(text) is not None


async def pr_status(deps: Deps, channel_id: int | None) -> str:
    """Say what the store knows of the PR whose thread this is."""
    threads = ThreadStore(deps.store)
    pr = await threads.pr_of_thread(channel_id) if channel_id else None
    record = await threads.get(pr) if pr else None
    if pr is None or record is None:
        return NOT_A_PR_THREAD + " Use `/pr status` in a PR's thread."
    verdicts = await threads.field(pr, "verdicts")
    checks = await threads.field(pr, "checks")  # the live card's failing flag
    web = web_base_for(deps.settings.github_api_base)
    return status_text(PrStatus(pr, web, record, verdicts, checks))


async def status(ctx: Context, deps: Deps, command: Command) -> str:
    """`/pr status`: state, reviewers and their verdicts, checks."""
    return await ctx.step.run("status", pr_status, deps, command.channel_id)


async def unlink(ctx: Context, deps: Deps, command: Command) -> str:
    """`/pr unlink`: forget the member's GitHub login."""
    login = await ctx.step.run("unlink", deps.user_map.unlink, command.user.id)
    return f"Unlinked GitHub login **{login}**." if login else "No GitHub login is linked to you."


async def failed_runs(deps: Deps) -> str:
    """List the latest failed runs with their errors."""
    runs = await list_runs(deps.store, FAILED_SHOWN, failed=True)
    if not runs:
        return "No failed runs. 🎉"
    now_ms = int(time.time() * 1000)
    lines = [f"Latest {len(runs)} failed run(s) (`prbot runs show RUN_ID` for the steps):"]
    for run in runs:
        detail = await get_run(deps.store, run.run_id)
        # The error's kind only: its message may quote the payload (as failure alerts do).
        kind = ERROR_KIND.match(detail.state.get("error", "") if detail else "")
        what = f", {kind.group(0)}" if kind else ""
        ago = age(now_ms - run.created_ms)
        lines.append(f"• `{run.run_id}` {run.function_id} ({ago} ago{what}, "
                     f"event `{run.event_id}`)")  # fmt: skip
    return "\n".join(lines)


async def failed(ctx: Context, deps: Deps, command: Command) -> str:
    """`/prbot failed` (admins): the latest failed runs."""
    return await ctx.step.run("failed", failed_runs, deps) if command.is_admin else NOT_ADMIN


async def replay_copy(
    deps: Deps, delivery_id: str, interaction_id: int
) -> dict[str, object] | None:
    """Return the recorded delivery as a new event to send (a deliberate replay), if it exists."""
    raw, _ = await deps.store.reads.event(delivery_id)
    event = parse_record(raw) if raw else None
    if event is None or event.name.startswith(PREFIX):  # commands are not replayed
        return None
    copy = Event(name=event.name, data=event.data, id=f"{event.id}.replay-{interaction_id}")
    return copy.model_dump(mode="json")


async def replay(ctx: Context, deps: Deps, command: Command) -> str:
    """`/prbot replay delivery_id` (admins): run a recorded delivery again, as new runs."""
    if not command.is_admin:
        return NOT_ADMIN
    delivery_id = command.text("delivery_id")
    found = await ctx.step.run("find", replay_copy, deps, delivery_id, command.interaction_id)
    if found is None:
        return f"No recorded delivery `{delivery_id}` (unknown or expired)."
    event = Event.model_validate(found)
    await ctx.step.send_event("replay", event)
    return f"Replaying `{delivery_id}` ({event.name}) as `{event.id}`: see `prbot runs`."


async def link_member(ctx: Context, deps: Deps, command: Command) -> str:
    """`/prbot link member github_login` (admins): link a member without proof."""
    if not command.is_admin:
        return NOT_ADMIN
    login, member = command.text("github_login"), command.text("member")
    if not is_login(login) or not member.isdigit():
        return f"`{login}` is not a GitHub login." if member.isdigit() else "Pick a member."
    source = f"admin:{command.user.id}"
    await ctx.step.run("link", deps.user_map.link, login, int(member), source)
    return f"Linked <@{member}> to GitHub login **{login}**."


async def post_to_pr(ctx: Context, deps: Deps, command: Command) -> str:
    """`Post to PR` (message command): mirror one message to the PR as a comment."""
    target = command.target
    threads = ThreadStore(deps.store)
    pr = await ctx.step.run("pr", threads.pr_of_thread, target.channel_id) if target else None
    if pr is None or target is None:
        return NOT_A_PR_THREAD
    if deps.github is None:
        return NO_GITHUB
    # The same mirroring as automatic sync: one comment per message, however often it is asked.
    reply = mirror.reply_of_target(pr, command.guild_id, target)
    why = skip_reason(reply)
    if why is not None:
        return f"That message is not posted to GitHub: {why}."
    mirrored = Mirror(deps.store, deps.github, deps.user_map)
    record = await mirror.mirror_reply(ctx, mirrored, reply)
    return f"Posted to {pr} (GitHub comment {record['id']})."


HANDLERS: dict[str, Handler] = {
    "pr.status": status,
    "pr.unlink": unlink,
    "prbot.failed": failed,
    "prbot.replay": replay,
    "prbot.link": link_member,
    "post-to-pr": post_to_pr,
}


def by_member(event: Event) -> str | None:
    """Run one member's commands one at a time, in the order they were used."""
    user = event.data.get("user")
    return f"discord-member:{user['id']}" if isinstance(user, dict) and "id" in user else None


def build(deps: Deps) -> Function:
    """Return the function answering every command but `/pr link`."""
    answers = Answers(deps.store, deps.discord)

    @function(
        FUNCTION_ID, [PREFIX + name for name in HANDLERS], retries=3, concurrency_key=by_member
    )
    async def commands(ctx: Context) -> str:
        command = parse(Command, ctx.event.data)
        content = await HANDLERS[command.command](ctx, deps, command)
        await ctx.step.run("answer", answers.answer, command, content)
        return command.command

    return commands
