"""GitHub's JSON shapes for what the fake stores, complete enough that githubkit's models parse.

Field lists follow the REST API's OpenAPI description (``simple-user``, ``repository``,
``pull-request``, ``issue-comment``, ``check-run``, ...): every required field is present.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from tests.fakes.github_models import (
    App,
    Installation,
    Label,
    Repo,
    User,
)
from tests.fakes.github_rules import JSONObject, iso

# Templated URL fields of a repository object, relative to its API url.
_REPO_TEMPLATES = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}
_USER_TEMPLATES = {
    "followers_url": "/followers",
    "following_url": "/following{/other_user}",
    "gists_url": "/gists{/gist_id}",
    "starred_url": "/starred{/owner}{/repo}",
    "subscriptions_url": "/subscriptions",
    "organizations_url": "/orgs",
    "repos_url": "/repos",
    "events_url": "/events{/privacy}",
    "received_events_url": "/received_events",
}


def node_id(kind: str, ident: int) -> str:
    """Return a GraphQL-style global node id for an object."""
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode().rstrip("=")


@dataclass(frozen=True)
class Render:
    """Turn stored objects into GitHub JSON, with ``api`` and ``web`` as the URL roots."""

    api: str
    web: str = "https://github.com"

    def user(self, user: User) -> JSONObject:
        """Return a ``simple-user``."""
        url = f"{self.api}/users/{user.login}"
        data: JSONObject = {
            "login": user.login,
            "id": user.id,
            "node_id": node_id("User", user.id),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user.id}?v=4",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{self.web}/{user.login}",
            "type": user.type,
            "site_admin": user.site_admin,
            "user_view_type": "public",
        }
        data.update({k: url + v for k, v in _USER_TEMPLATES.items()})
        return data

    def private_user(self, user: User, created_at: float) -> JSONObject:
        """Return ``GET /user``'s ``private-user``."""
        return {
            **self.user(user),
            **dict.fromkeys(["name", "company", "blog", "location", "email", "hireable", "bio"]),
            "public_repos": 0,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": iso(created_at),
            "updated_at": iso(created_at),
            "private_gists": 0,
            "total_private_repos": 0,
            "owned_private_repos": 0,
            "disk_usage": 0,
            "collaborators": 0,
            "two_factor_authentication": True,
        }

    def repo_url(self, repo: Repo) -> str:
        """Return the repository's API url."""
        return f"{self.api}/repos/{repo.full_name}"

    def minimal_repo(self, repo: Repo) -> JSONObject:
        """Return a ``minimal-repository``."""
        url = self.repo_url(repo)
        data: JSONObject = {
            "id": repo.id,
            "node_id": node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self.user(repo.owner),
            "private": repo.private,
            "html_url": f"{self.web}/{repo.full_name}",
            "description": None,
            "fork": False,
            "url": url,
        }
        data.update({k: url + v for k, v in _REPO_TEMPLATES.items()})
        return data

    def repo(self, repo: Repo) -> JSONObject:
        """Return a full ``repository``."""
        html = f"{self.web}/{repo.full_name}"
        counts = dict.fromkeys(
            ["forks", "forks_count", "stargazers_count", "watchers_count", "watchers", "size"], 0
        )
        return {
            **self.minimal_repo(repo),
            **counts,
            "license": None,
            "git_url": f"git://github.com/{repo.full_name}.git",
            "ssh_url": f"git@github.com:{repo.full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "mirror_url": None,
            "homepage": None,
            "language": None,
            "default_branch": repo.default_branch,
            "open_issues_count": 0,
            "open_issues": 0,
            "has_pages": False,
            "disabled": False,
            "archived": False,
            "visibility": "private" if repo.private else "public",
            "pushed_at": iso(repo.created_at),
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.created_at),
        }

    def label(self, repo: Repo, label: Label) -> JSONObject:
        """Return a label."""
        return {
            "id": label.id,
            "node_id": node_id("Label", label.id),
            "url": f"{self.repo_url(repo)}/labels/{label.name}",
            "name": label.name,
            "description": label.description,
            "color": label.color,
            "default": False,
            "archived_by": None,
        }

    def app(self, app: App) -> JSONObject:
        """Return an ``integration`` (``GET /app``, ``performed_via_github_app``)."""
        return {
            "id": app.id,
            "slug": app.slug,
            "client_id": app.client_id,
            "node_id": node_id("App", app.id),
            "owner": self.user(app.owner),
            "name": app.name,
            "description": "",
            "external_url": f"{self.web}/apps/{app.slug}",
            "html_url": f"{self.web}/apps/{app.slug}",
            "created_at": iso(app.created_at),
            "updated_at": iso(app.created_at),
            "permissions": dict(app.permissions),
            "events": list(app.events),
            "installations_count": 1,
        }

    def installation(self, inst: Installation, app: App) -> JSONObject:
        """Return an ``installation``."""
        return {
            "id": inst.id,
            "account": self.user(inst.account),
            "repository_selection": "all" if inst.repository_ids is None else "selected",
            "access_tokens_url": f"{self.api}/app/installations/{inst.id}/access_tokens",
            "repositories_url": f"{self.api}/installation/repositories",
            "html_url": f"{self.web}/settings/installations/{inst.id}",
            "app_id": inst.app_id,
            "client_id": app.client_id,
            "target_id": inst.account.id,
            "target_type": inst.account.type,
            "permissions": dict(inst.permissions),
            "events": list(inst.events),
            "created_at": iso(inst.created_at),
            "updated_at": iso(inst.created_at),
            "single_file_name": None,
            "app_slug": app.slug,
            "suspended_by": None,
            "suspended_at": None,
        }
