"""Webhooks for what the API itself wrote: GitHub tells every hook of a comment made through it.

https://docs.github.com/webhooks/webhook-events-and-payloads#issue_comment: a comment created
or edited through the REST API is delivered like one typed on github.com, to the repository's
and organization's hooks and to the hook of every App installed on the repository (with
`installation`). A bot's own comments come back to it this way. Off unless a test turns on
``Hooks.echo_comments`` (seeded histories elsewhere count their deliveries).
"""

from __future__ import annotations

import asyncio

from tests.fakes.github_calls import World
from tests.fakes.github_json_pulls import issue_comment
from tests.fakes.github_models import Hook, Installation, IssueComment, Repo
from tests.fakes.github_rules import JSONObject


def echo_comment(world: World, repo: Repo, comment: IssueComment, action: str) -> None:
    """Deliver `issue_comment.<action>` for an API-made comment to every hook that hears it."""
    hooks = world.hooks
    if not hooks.echo_comments:
        return
    for hook, installation in _listeners(world, repo):
        payload = _payload(world, repo, comment, action, installation)
        task = asyncio.get_running_loop().create_task(hooks.deliver(hook, "issue_comment", payload))
        hooks.track(task)


def _listeners(world: World, repo: Repo) -> list[tuple[Hook, Installation | None]]:
    found: list[tuple[Hook, Installation | None]] = []
    for hook in world.state.hooks.values():
        if (hook.scope, hook.owner) in (("repo", str(repo.id)), ("org", repo.owner.login)):
            found.append((hook, None))
        elif hook.scope == "app":
            for inst in world.state.installations.values():
                covers = inst.repository_ids is None or repo.id in inst.repository_ids
                if str(inst.app_id) == hook.owner and inst.account.id == repo.owner.id and covers:
                    found.append((hook, inst))
    return found


def _payload(
    world: World, repo: Repo, comment: IssueComment, action: str, inst: Installation | None
) -> JSONObject:
    r = world.render
    app = world.state.apps.get(comment.app_id) if comment.app_id else None
    number = comment.issue_number
    pr = world.state.pulls.get((repo.id, number))
    html = f"{r.web}/{repo.full_name}/{'pull' if pr else 'issues'}/{number}"
    issue: JSONObject = {
        "number": number,
        "title": pr.title if pr else f"Issue {number}",
        "html_url": html,
        "user": r.user(pr.user if pr else comment.user),
        "body": pr.body if pr else None,
        "labels": [r.label(repo, label) for label in pr.labels] if pr else [],
        "state": pr.state if pr else "open",
        "created_at": None,
    }
    if pr is not None:
        issue["pull_request"] = {"url": f"{r.repo_url(repo)}/pulls/{number}", "html_url": html}
    payload: JSONObject = {
        "action": action,
        "issue": issue,
        "comment": issue_comment(r, repo, comment, app),
        "repository": r.repo(repo),
        "sender": r.user(comment.user),
    }
    if inst is not None:
        payload["installation"] = {"id": inst.id}
    return payload
