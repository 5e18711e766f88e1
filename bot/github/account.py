"""Who the credentials are and what they may do (for `prbot check`).

A token's user is `GET /user`; a classic token's scopes come back in `X-OAuth-Scopes`, while a
fine-grained token's permissions are not readable through the API. An App is `GET /app` (its
permissions and events), and each installation says what it was granted:
https://docs.github.com/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app
"""

from __future__ import annotations

from bot.github.client import GitHubClient, parse
from bot.github.shapes import Identity, Installation, RepoRef


class Account:
    """The identity behind the credentials, and an App's installations."""

    def __init__(self, client: GitHubClient) -> None:
        self.client = client
        self._rest = client.github.rest

    async def identity(self) -> Identity:
        """Log in: return the token's user (and classic scopes) or the App."""
        if self.client.credentials.is_app:
            route = "GET /app"
            apps = self._rest.apps
            data = await self.client.send(
                route, lambda h: apps.async_get_authenticated(headers=h), self.client.app_auth()
            )
            app = data if isinstance(data, dict) else {}
            return parse(
                Identity,
                {"kind": "app", "name": app.get("slug"), "permissions": app.get("permissions"),
                 "events": app.get("events") or ()},
                route,
            )  # fmt: skip
        route = "GET /user"
        users = self._rest.users
        response = await self.client.request(
            route, lambda h: users.async_get_authenticated(headers=h), self.client.token_auth()
        )
        scopes = response.headers.get("x-oauth-scopes")
        kind = "fine-grained" if scopes is None else "classic"
        listed = tuple(s.strip() for s in (scopes or "").split(",") if s.strip())
        return parse(
            Identity, {"kind": kind, "name": response.json().get("login"), "scopes": listed}, route
        )

    async def installation(self, repo: RepoRef) -> Installation:
        """Return the App's installation on `repo` (GitHubApiError 404 when not installed)."""
        route = "GET /repos/{owner}/{repo}/installation"
        apps = self._rest.apps
        data = await self.client.send(
            route,
            lambda h: apps.async_get_repo_installation(repo.owner, repo.name, headers=h),
            self.client.app_auth(),
        )
        return parse(Installation, data, route)
