"""`/pr link github_login`: a member proves a GitHub login is theirs (GitHub's device flow).

With GITHUB_APP_CLIENT_ID the run asks GitHub for a user code, shows it (ephemeral), then polls
durably (a sleeping run holds no worker) until the member approves on GitHub, and links the
login GitHub names, if it is the one asked for. Without it only admins link (`/prbot link`).
The device code waits in the store for its lifetime, never in a step result (the dashboard
shows those); the access token never leaves `bot.github.device`.
"""

from __future__ import annotations

from typing import Any

from bot.github.device import DeviceFlow
from bot.github.payloads import parse
from bot.prs.answers import PREFIX, Answers, Command
from bot.prs.deps import Deps
from bot.runtime import Context, Function, Store, function
from functions.commands import is_login

FUNCTION_ID = "discord-link"
EVENT = PREFIX + "pr.link"
NO_DEVICE_FLOW = (
    "Linking yourself needs GitHub's device flow, which this prbot has not set up "
    "(GITHUB_APP_CLIENT_ID). Ask an admin to link you with `/prbot link`."
)
ENDED = {
    "expired": "The code expired before it was entered on GitHub: nothing linked. Run "
    "`/pr link` again.",
    "denied": "You declined on GitHub: nothing linked.",
}


class DeviceCodes:
    """Device codes of running links, kept in the store for their lifetime only."""

    def __init__(self, store: Store, flow: DeviceFlow) -> None:
        self.data = store.data
        self.flow = flow

    async def start(self, interaction_id: int) -> dict[str, Any]:
        """Ask GitHub for a code; keep the device code; return what to show and how to poll."""
        code = await self.flow.start()
        fields = {"device_code": code.device_code}
        await self.data.update("device", str(interaction_id), fields, code.expires_in_s * 1000)
        return {
            "user_code": code.user_code,
            "verification_uri": code.verification_uri,
            "expires_in_s": code.expires_in_s,
            "interval_s": code.interval_s,
        }

    async def poll(self, interaction_id: int, interval_s: int) -> dict[str, Any]:
        """Ask GitHub once; return the status, the interval to keep and the login if granted."""
        device_code = await self.data.field("device", str(interaction_id), "device_code")
        if not device_code:
            return {"status": "expired"}
        answer = await self.flow.poll(device_code, interval_s)
        if answer.status == "granted":
            await self.data.forget("device", str(interaction_id))
        return {"status": answer.status, "interval_s": answer.interval_s, "login": answer.login}


def build(deps: Deps) -> Function:
    """Return the function behind `/pr link`."""
    answers = Answers(deps.store, deps.discord)
    client_id = deps.settings.github_app_client_id
    flow = DeviceFlow(client_id or "", api_base=deps.settings.github_api_base)
    codes = DeviceCodes(deps.store, flow)

    async def prove(ctx: Context, command: Command, login: str) -> str:
        shown = await ctx.step.run("device-code", codes.start, command.interaction_id)
        minutes = max(1, shown["expires_in_s"] // 60)
        await ctx.step.run(
            "answer",
            answers.answer,
            command,
            (
                f"To prove you are **{login}** on GitHub, open <{shown['verification_uri']}> and "
                f"enter the code **{shown['user_code']}** within {minutes} minutes."
            ),
        )
        interval_s = int(shown["interval_s"])
        for _ in range(shown["expires_in_s"] // max(1, interval_s) + 2):
            await ctx.step.sleep("wait", interval_s)
            polled = await ctx.step.run("poll", codes.poll, command.interaction_id, interval_s)
            if polled["status"] in ENDED:
                return ENDED[polled["status"]]
            if polled["status"] == "granted":
                return await granted(ctx, command, login, polled["login"])
            interval_s = int(polled["interval_s"] or interval_s)
        return ENDED["expired"]

    async def granted(ctx: Context, command: Command, login: str, proven: str) -> str:
        if proven.casefold() != login.casefold():
            return f"You approved on GitHub as **{proven}**, not **{login}**: nothing linked."
        before = await ctx.step.run("link", deps.user_map.link, proven, command.user.id, "github")
        unlinked = f" (instead of **{before}**)" if before else ""
        return f"Linked you to GitHub login **{proven}**{unlinked}."

    @function(FUNCTION_ID, EVENT, retries=3)
    async def link(ctx: Context) -> str:
        command = parse(Command, ctx.event.data)
        login = command.text("github_login")
        if not is_login(login):
            result = f"`{login}` is not a GitHub login."
        elif client_id is None:
            result = NO_DEVICE_FLOW
        else:
            result = await prove(ctx, command, login)
        # The last answer may come after the token's 15 minutes: then there is none to give.
        await ctx.step.run("answer", answers.answer, command, result, True)
        return result

    return link
