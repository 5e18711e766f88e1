"""A webhook's recent deliveries, and asking GitHub to deliver one again.

https://docs.github.com/rest/repos/webhooks#list-deliveries-for-a-repository-webhook (and the
organisation and App variants): newest first, cursor-paginated through `Link`; deliveries are
kept 3 days. Redelivery (`POST .../deliveries/{id}/attempts`, 202) keeps the `guid`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from bot.github.client import Auth, Call, GitHubClient, parse
from bot.github.shapes import HookDelivery, HookRef

PER_PAGE = 100


class HookDeliveries:
    """List and redeliver the deliveries of a repository, organisation or App webhook."""

    def __init__(self, client: GitHubClient) -> None:
        self.client = client
        self._rest = client.github.rest

    def _auth(self, hook: HookRef) -> Auth:
        return self.client.app_auth() if hook.is_app else self.client.token_auth()

    async def newest_first(
        self, hook: HookRef, per_page: int = PER_PAGE
    ) -> AsyncGenerator[HookDelivery, None]:
        """Yield every attempt GitHub still keeps, newest first, a page at a time."""
        route, first = self._list_call(hook, per_page)
        async for page in self.client.pages(route, first, self._auth(hook)):
            for item in page:
                yield parse(HookDelivery, item, route)

    async def redeliver(self, hook: HookRef, delivery_id: int) -> None:
        """Ask GitHub to deliver attempt `delivery_id` again (it answers 202, then sends)."""
        rest, parts = self._rest, hook.parts
        if hook.is_app:
            route = "POST /app/hook/deliveries/{delivery_id}/attempts"
            call: Call = lambda h: rest.apps.async_redeliver_webhook_delivery(  # noqa: E731
                delivery_id, headers=h
            )
        elif len(parts) == 3:
            route = "POST /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts"
            owner, repo, hook_id = parts
            call = lambda h: rest.repos.async_redeliver_webhook_delivery(  # noqa: E731
                owner, repo, int(hook_id), delivery_id, headers=h
            )
        else:
            route = "POST /orgs/{org}/hooks/{hook_id}/deliveries/{delivery_id}/attempts"
            org, hook_id = parts
            call = lambda h: rest.orgs.async_redeliver_webhook_delivery(  # noqa: E731
                org, int(hook_id), delivery_id, headers=h
            )
        await self.client.send(route, call, self._auth(hook))

    def _list_call(self, hook: HookRef, per_page: int) -> tuple[str, Call]:
        rest, parts = self._rest, hook.parts
        if hook.is_app:
            return "GET /app/hook/deliveries", lambda h: rest.apps.async_list_webhook_deliveries(
                per_page=per_page, headers=h
            )
        if len(parts) == 3:
            owner, repo, hook_id = parts
            return (
                "GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries",
                lambda h: rest.repos.async_list_webhook_deliveries(
                    owner, repo, int(hook_id), per_page=per_page, headers=h
                ),
            )
        org, hook_id = parts
        return (
            "GET /orgs/{org}/hooks/{hook_id}/deliveries",
            lambda h: rest.orgs.async_list_webhook_deliveries(
                org, int(hook_id), per_page=per_page, headers=h
            ),
        )
