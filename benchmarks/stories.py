"""Soak traffic: coherent PR stories rewritten from the recorded fixtures, then mixed for sending.

Each PR gets a lifecycle (opened, comments, draft/ready, review request, review comments, reviews,
title edits, then merged or closed — some stay open), told by fresh copies of the recorded
deliveries with its own repository, number, title, ids and a unique marker in every comment and
review body. The sender keeps each PR's deliveries in lane order, so the only disorder is the one
planned here: some first comments arrive before their `opened`, 30% of deliveries come again with
the same delivery id, and some comments come in bursts.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from bot.github.webhooks import DELIVERY_HEADER
from bot.ops.fixtures import Delivery, load_delivery, scenarios_dir

REPOS = ("acme/widgets", "acme/gadgets", "octo-org/hello-world", "forge/anvil")
FORUM_REPO = "forge/anvil"  # routed to the forum channel; the others share the text channel
TEMPLATES = {
    "opened": "pr-lifecycle/01-opened",
    "comment": "pr-lifecycle/02-comment",
    "draft": "pr-lifecycle/03-converted-to-draft",
    "ready": "pr-lifecycle/04-ready-for-review",
    "review_requested": "pr-lifecycle/05-review-requested",
    "review_comment": "pr-lifecycle/06-review-comment",
    "review_commented": "pr-lifecycle/07-review-commented",
    "review_approved": "pr-lifecycle/08-review-approved",
    "edited": "pr-lifecycle/09-edited-title",
    "merged": "pr-lifecycle/10-merged",
    "closed": "closed-reopened/02-closed",
    "reopened": "closed-reopened/03-reopened",
    "changes_requested": "changes-requested/02-review-changes-requested",
}
# Kinds whose run posts exactly one message in the PR's thread (the intro is counted apart).
POSTS = frozenset(TEMPLATES) - {"opened", "edited"}
# Kinds whose body carries a marker that must appear exactly once.
MARKED = frozenset(
    {"comment", "review_comment", "review_commented", "review_approved", "changes_requested"}
)
REDELIVERED_SHARE = 0.3


@dataclass(frozen=True)
class Pr:
    """One pull request of the soak."""

    index: int
    repo: str
    number: int

    @property
    def key(self) -> str:
        """Return `owner/repo#number`."""
        return f"{self.repo}#{self.number}"


@dataclass(frozen=True)
class Item:
    """One POST: a delivery, whether it repeats an earlier one, whether the next follows at once."""

    delivery: Delivery
    redelivery: bool = False
    burst: bool = False


@dataclass
class Story:
    """A PR's deliveries in sending order and what Discord must show in the end."""

    pr: Pr
    kinds: list[str] = field(default_factory=list)
    lane: list[Item] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)
    title: str = ""
    archived: bool = False

    @property
    def posts(self) -> int:
        """Return how many messages the thread must hold: the intro plus one per posting event."""
        return 1 + sum(1 for kind in self.kinds if kind in POSTS)


@dataclass(frozen=True)
class Plan:
    """Every story of a soak and the totals the report prints."""

    stories: list[Story]
    unique: int
    redelivered: int

    @property
    def sent(self) -> int:
        """Return the number of POSTs the plan makes."""
        return self.unique + self.redelivered


def load_templates() -> dict[str, Delivery]:
    """Load the recorded delivery behind every kind."""
    root = scenarios_dir()
    return {kind: load_delivery(root / f"{path}.json") for kind, path in TEMPLATES.items()}


def skeleton(rng: random.Random) -> list[str]:
    """Return a PR's lifecycle kinds (before extra comments), closing events last."""
    kinds = ["opened", "comment"]
    if rng.random() < 0.3:
        kinds += ["draft", "ready"]
    kinds += ["review_requested", "review_comment"]
    kinds.append(rng.choice(["review_commented", "changes_requested", "review_approved"]))
    kinds += ["edited"] * rng.choices([0, 1, 2], weights=[3, 5, 2])[0]  # Discord: 2 renames/10 min
    end = rng.random()
    if end < 0.7:
        kinds.append("merged")
    elif end < 0.78:
        kinds += ["closed", "reopened", "comment", "closed"]
    elif end < 0.85:
        kinds.append("closed")
    return kinds  # the rest stay open


def add_comments(kinds: list[str], extra: int) -> list[str]:
    """Insert `extra` comments before the title edits, so an edit is often followed by a merge."""
    ends = ("edited", "merged", "closed")
    at = next((i for i, k in enumerate(kinds) if k in ends), len(kinds))
    return kinds[:at] + ["comment"] * extra + kinds[at:]


class Writer:
    """Make one PR's deliveries from the templates, keeping its title and ids coherent."""

    def __init__(self, templates: dict[str, Delivery], pr: Pr, rng: random.Random) -> None:
        self.templates = templates
        self.pr = pr
        self.rng = rng
        self.title = f"Soak change {pr.index:03d} to {pr.repo.split('/')[1]}"
        self.count = 0

    def delivery(self, kind: str) -> tuple[Delivery, str | None]:
        """Return the delivery for the next event of `kind` and its marker, if it has one."""
        self.count += 1
        payload: dict[str, Any] = self.templates[kind].payload()
        marker = f"soak-{self.pr.index:03d}-{self.count:03d}" if kind in MARKED else None
        if kind == "edited":
            payload["changes"] = {"title": {"from": self.title}}
            self.title = f"{self.title} (v{self.count})"
        self._rewrite(payload, marker)
        return self._signed(kind, payload), marker

    def _rewrite(self, payload: dict[str, Any], marker: str | None) -> None:
        repo, number = self.pr.repo, self.pr.number
        owner, name = repo.split("/")
        payload["repository"].update(full_name=repo, name=name)
        payload["repository"]["owner"]["login"] = owner
        url = f"https://github.com/{repo}/pull/{number}"
        for key in ("pull_request", "issue"):
            if key in payload:
                payload[key].update(number=number, title=self.title, html_url=url)
        if "number" in payload:
            payload["number"] = number
        if "pull_request" in payload.get("issue", {}):
            payload["issue"]["pull_request"]["html_url"] = url
        for key in ("comment", "review"):
            if key in payload:
                item_id = self.pr.index * 10_000 + self.count
                body = f"{payload[key].get('body') or 'Looks fine.'} ({marker})"
                payload[key].update(id=item_id, body=body, html_url=f"{url}#{key}-{item_id}")

    def _signed(self, kind: str, payload: dict[str, Any]) -> Delivery:
        template = self.templates[kind]
        delivery_id = str(uuid.UUID(int=self.rng.getrandbits(128)))
        headers = {**template.headers, DELIVERY_HEADER: delivery_id}
        body = json.dumps(payload, separators=(",", ":")).encode()
        return replace(template, delivery_id=delivery_id, headers=headers, body=body)


def write_story(
    templates: dict[str, Delivery], pr: Pr, kinds: list[str], rng: random.Random
) -> Story:
    """Return the story of `pr` told by `kinds`, with its deliveries in lane order."""
    writer = Writer(templates, pr, rng)
    story = Story(pr, kinds=list(kinds))
    burst = rng.random() < 0.3  # its comments come back to back
    hasty = rng.random() < 0.5  # merged or closed right after its title edit
    for kind in kinds:
        delivery, marker = writer.delivery(kind)
        quick = (burst and kind == "comment") or (hasty and kind == "edited")
        story.lane.append(Item(delivery, burst=quick))
        if marker:
            story.markers.append(marker)
    story.title = writer.title
    story.archived = kinds[-1] in ("merged", "closed")
    if rng.random() < 0.15:  # its first comment arrives before it is opened
        first = next(i for i, k in enumerate(kinds) if k == "comment")
        story.lane.insert(0, story.lane.pop(first))
    return story


def redeliver(stories: list[Story], count: int, rng: random.Random) -> None:
    """Send `count` deliveries a second time, later in their lane, with the same delivery id."""
    slots = [(s, i) for s in stories for i in range(len(s.lane))]
    for story, index in sorted(rng.sample(slots, count), key=lambda x: -x[1]):
        original = story.lane[index]
        at = rng.randint(index + 1, len(story.lane))
        story.lane.insert(at, Item(original.delivery, redelivery=True))


def plan(deliveries: int, prs: int, seed: int) -> Plan:
    """Return `deliveries` POSTs across `prs` PRs, 30% of them repeats of an earlier delivery."""
    rng = random.Random(seed)
    unique = round(deliveries / (1 + REDELIVERED_SHARE))
    pulls = [Pr(i, REPOS[i % len(REPOS)], 100 + i) for i in range(prs)]
    skeletons = [skeleton(rng) for _ in pulls]
    extra = distribute(unique - sum(len(k) for k in skeletons), prs, rng)
    templates = load_templates()
    stories = [
        write_story(templates, pr, add_comments(kinds, n), rng)
        for pr, kinds, n in zip(pulls, skeletons, extra, strict=True)
    ]
    redeliver(stories, deliveries - unique, rng)
    return Plan(stories, unique, deliveries - unique)


def distribute(total: int, parts: int, rng: random.Random) -> list[int]:
    """Split `total` (≥ 0) into `parts` random non-negative counts."""
    counts = [0] * parts
    for _ in range(max(0, total)):
        counts[rng.randrange(parts)] += 1
    return counts
