"""The recorded deliveries under fixtures/scenarios and the loader that reads them."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from bot.github.webhooks import SignatureError, parse_delivery, verify_signature
from bot.ops import fixtures
from bot.ops.fixtures import (
    Delivery,
    FixtureError,
    dump_delivery,
    load_deliveries,
    load_delivery,
    scenarios_dir,
    sign,
)

SECRET = "It's a Secret to Everybody"
HOOKSHOT = re.compile(r"GitHub-Hookshot/[0-9a-f]{7}")
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FILE_NAME = re.compile(r"(\d{2})-[a-z0-9]+(?:-[a-z0-9]+)*\.json")
# Files a scenario folder may hold beside its deliveries: replay settings and the golden transcript.
COMPANIONS = {"scenario.env", "transcript.txt"}

# What each scenario tells: its repository, its PR numbers, its (event, action) sequence.
HELLO, FORUM = "octo-org/hello-world", "octo-org/forum-demo"
LIFECYCLE: list[tuple[str, str | None]] = [
    ("pull_request", "opened"),
    ("issue_comment", "created"),
    ("pull_request", "converted_to_draft"),
    ("pull_request", "ready_for_review"),
    ("pull_request", "review_requested"),
    ("pull_request_review_comment", "created"),
    ("pull_request_review", "submitted"),
    ("pull_request_review", "submitted"),
    ("pull_request", "edited"),
    ("pull_request", "closed"),
]
SCENARIOS: dict[str, tuple[str, set[int], list[tuple[str, str | None]]]] = {
    "pr-lifecycle": (HELLO, {42}, list(LIFECYCLE)),
    "forum": (FORUM, {7}, list(LIFECYCLE)),
    "edge-cases": (
        HELLO,
        {43},
        [
            ("issue_comment", "created"),
            ("pull_request", "opened"),
            ("issue_comment", "created"),
            ("issue_comment", "created"),
            ("pull_request", "edited"),
            ("pull_request", "edited"),
            ("pull_request", "edited"),
        ],
    ),
    "closed-reopened": (
        HELLO,
        {44},
        [
            ("pull_request", "opened"),
            ("pull_request", "closed"),
            ("pull_request", "reopened"),
            ("issue_comment", "created"),
            ("pull_request", "closed"),
        ],
    ),
    "changes-requested": (
        HELLO,
        {45},
        [
            ("pull_request", "opened"),
            ("pull_request_review", "submitted"),
            ("pull_request", "synchronize"),
            ("pull_request_review", "submitted"),
            ("pull_request_review", "dismissed"),
            ("pull_request", "closed"),
        ],
    ),
    "redelivery": (
        HELLO,
        {46},
        [
            ("pull_request", "opened"),
            ("issue_comment", "created"),
            ("issue_comment", "created"),
            ("issue_comment", "created"),
        ],
    ),
    "review-reminders": (
        HELLO,
        {48},
        [
            ("pull_request", "opened"),
            ("pull_request", "ready_for_review"),
            ("pull_request_review", "submitted"),
            ("pull_request", "review_requested"),
            ("pull_request", "converted_to_draft"),
            ("pull_request", "ready_for_review"),
            ("pull_request_review", "submitted"),
            ("pull_request", "closed"),
        ],
    ),
    "review-digest": (
        HELLO,
        {49, 50, 51},
        [
            ("pull_request", "opened"),
            ("pull_request", "opened"),
            ("pull_request", "opened"),
            ("pull_request_review", "submitted"),
            ("pull_request", "ready_for_review"),
            ("pull_request", "closed"),
            ("pull_request_review", "submitted"),
            ("pull_request_review", "submitted"),
        ],
    ),
    "ci": (
        HELLO,
        {48},
        [
            ("pull_request", "opened"),
            ("check_suite", "requested"),
            ("check_run", "created"),
            ("check_run", "completed"),
            ("status", None),
            ("check_run", "completed"),
            ("check_run", "completed"),
            ("pull_request", "synchronize"),
            ("check_run", "completed"),
            ("workflow_run", "completed"),
        ],
    ),
    "edits": (
        HELLO,
        {49},
        [
            ("pull_request", "opened"),
            ("issue_comment", "created"),
            ("issue_comment", "edited"),
            ("pull_request_review_comment", "created"),
            ("pull_request_review_comment", "deleted"),
            ("pull_request_review", "submitted"),
            ("pull_request_review", "edited"),
            ("pull_request", "labeled"),
            ("pull_request", "unlabeled"),
            ("pull_request", "review_requested"),
            ("pull_request", "review_request_removed"),
            ("pull_request", "closed"),
            ("issue_comment", "edited"),
            ("issue_comment", "deleted"),
        ],
    ),
    "noise": (
        HELLO,
        set(),
        [
            ("ping", None),
            ("push", None),
            ("status", None),
            ("check_run", "completed"),
            ("issues", "opened"),
            ("issue_comment", "created"),
        ],
    ),
}


def at(data: object, *path: str) -> object:
    """Return the value at `path` inside nested JSON objects, or None when absent."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def text(data: object, *path: str) -> str:
    """Return the string at `path`, failing the test when it is not one."""
    value = at(data, *path)
    assert isinstance(value, str), f"expected a string at {'.'.join(path)}, got {value!r}"
    return value


def when(data: object, *path: str) -> datetime:
    """Return the timestamp at `path`."""
    return datetime.fromisoformat(text(data, *path))


def scenario(name: str) -> list[Delivery]:
    """Load one scenario folder."""
    return load_deliveries([scenarios_dir() / name])


def all_deliveries() -> list[Delivery]:
    """Load every scenario."""
    return load_deliveries(sorted(p for p in scenarios_dir().iterdir() if p.is_dir()))


def pr_number(payload: dict[str, object]) -> int | None:
    """Return the PR a payload is about, or None when it is about no PR."""
    if "pull_request" in payload:
        number = at(payload, "pull_request", "number")
    elif at(payload, "issue", "pull_request") is not None:
        number = at(payload, "issue", "number")
    else:
        return None
    assert isinstance(number, int)
    return number


def pr_title(payload: dict[str, object]) -> str:
    """Return the PR title a PR-related payload carries."""
    if "pull_request" in payload:
        return text(payload, "pull_request", "title")
    return text(payload, "issue", "title")


def pr_updated(payload: dict[str, object]) -> datetime:
    """Return when GitHub last changed the PR, as the payload says."""
    if "pull_request" in payload:
        return when(payload, "pull_request", "updated_at")
    return when(payload, "issue", "updated_at")


def write(path: Path, document: object) -> Path:
    """Write `document` as JSON to `path` and return the path."""
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def minimal(**headers: str) -> dict[str, object]:
    """Return a small valid fixture document, headers overridable."""
    base = {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-1"}
    return {"headers": {**base, **headers}, "payload": {"zen": "Keep it logically awesome."}}


# --- the recorded scenarios ---------------------------------------------------------------


def test_every_scenario_is_there() -> None:
    """Each scenario the README describes has a folder, and no other folder exists."""
    folders = {p.name for p in scenarios_dir().iterdir() if p.is_dir()}
    assert folders == set(SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_files_are_numbered_and_replayed_in_name_order(name: str) -> None:
    """Files are NN-<what>.json numbered from 01 without gaps, and load in that order."""
    files = sorted(p.name for p in (scenarios_dir() / name).iterdir() if p.name not in COMPANIONS)
    numbers = []
    for file in files:
        match = FILE_NAME.fullmatch(file)
        assert match, f"{name}/{file} is not named NN-<what>.json"
        numbers.append(int(match.group(1)))
    assert numbers == list(range(1, len(files) + 1))
    assert [d.source.name for d in scenario(name)] == files


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_tells_its_story(name: str) -> None:
    """The (event, action) sequence is the one the scenario is meant to tell."""
    _, _, story = SCENARIOS[name]
    got = [(d.event, at(d.payload(), "action")) for d in scenario(name)]
    assert got == story


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_headers_are_the_ones_github_sends(name: str) -> None:
    """Canonical header names, a GUID, one hook per scenario, Hookshot, JSON, no signature."""
    deliveries = scenario(name)
    for delivery in deliveries:
        headers = delivery.headers
        recorded = json.loads(delivery.source.read_text(encoding="utf-8"))["headers"]
        assert recorded == headers  # stored canonical already: loading changes nothing
        assert headers["X-GitHub-Event"] == delivery.event
        assert headers["X-GitHub-Delivery"] == delivery.delivery_id
        assert GUID.fullmatch(delivery.delivery_id)
        assert headers["X-GitHub-Hook-ID"].isdigit()
        assert HOOKSHOT.fullmatch(headers["User-Agent"])
        assert headers["Content-Type"] == "application/json"
        assert not any(h.lower().startswith("x-hub-signature") for h in headers)
        target = headers["X-GitHub-Hook-Installation-Target-ID"]
        assert target == str(at(delivery.payload(), "repository", "id"))
    assert len({d.headers["X-GitHub-Hook-ID"] for d in deliveries}) == 1


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_payloads_name_the_scenarios_repository_and_prs(name: str) -> None:
    """Every payload is on the scenario's repository and every PR-related one on its PR."""
    repository, numbers, _ = SCENARIOS[name]
    seen = set()
    for delivery in scenario(name):
        payload = delivery.payload()
        assert at(payload, "repository", "full_name") == repository, delivery.source
        number = pr_number(payload)
        if number is None:
            continue
        seen.add(number)
        html = f"https://github.com/{repository}/pull/{number}"
        pr_html = at(payload, "pull_request", "html_url") or at(payload, "issue", "html_url")
        assert pr_html == html, delivery.source
    assert seen == numbers


@pytest.mark.parametrize("name", sorted(n for n, (_, prs, _) in SCENARIOS.items() if prs))
def test_titles_authors_and_ids_stay_consistent(name: str) -> None:
    """Each PR keeps its id and author; its title changes only through `edited` deliveries."""
    titles: dict[int, str] = {}
    identity: dict[int, set[tuple[object, object]]] = {}
    for delivery in scenario(name):
        payload = delivery.payload()
        number = pr_number(payload)
        if number is None:
            continue
        title = titles.get(number)
        if delivery.event == "pull_request" and at(payload, "action") == "edited":
            assert at(payload, "changes", "title", "from") == title
        elif title is not None:
            assert pr_title(payload) == title, delivery.source
        titles[number] = pr_title(payload)
        pr = at(payload, "pull_request") or at(payload, "issue")
        identity.setdefault(number, set()).add(
            (at(pr, "user", "login"), at(payload, "pull_request", "id"))
        )
    for seen in identity.values():
        assert len({login for login, _ in seen}) == 1
        assert len({pr_id for _, pr_id in seen if pr_id is not None}) == 1
    ids = [next(i for _, i in seen if i is not None) for seen in identity.values()]
    assert len(set(ids)) == len(ids)  # different PRs, different ids


@pytest.mark.parametrize("name", sorted(n for n, (_, prs, _) in SCENARIOS.items() if prs))
def test_timestamps_advance(name: str) -> None:
    """Each delivery reports the PR as changed no earlier than the delivery before it."""
    # CI deliveries are about a commit, not the PR: they carry no PR timestamps.
    times = [pr_updated(p) for p in (d.payload() for d in scenario(name)) if pr_number(p)]
    if name == "edge-cases":  # the comment's delivery overtakes the opened one on purpose
        assert times[0] > times[1]
        times = times[1:]
    assert times == sorted(times)


def test_issue_comments_on_prs_carry_pull_request_and_plain_ones_do_not() -> None:
    """`issue.pull_request` is present exactly when the comment is on a PR."""
    for delivery in all_deliveries():
        if delivery.event != "issue_comment":
            continue
        on_pr = at(delivery.payload(), "issue", "pull_request") is not None
        assert on_pr == (delivery.source.parent.name != "noise"), delivery.source
    plain = [d for d in scenario("noise") if d.event == "issue_comment"]
    assert len(plain) == 1


def test_delivery_ids_are_unique_except_the_redelivery() -> None:
    """Only the deliberate manual redelivery repeats a delivery id, with the same body."""
    deliveries = all_deliveries()
    counts = Counter(d.delivery_id for d in deliveries)
    repeated = [d for d in deliveries if counts[d.delivery_id] > 1]
    assert [(d.source.parent.name, d.source.name) for d in repeated] == [
        ("redelivery", "02-comment.json"),
        ("redelivery", "03-comment-redelivered.json"),
    ]
    assert repeated[0].body == repeated[1].body
    assert repeated[0].headers == repeated[1].headers


def test_every_fixture_passes_the_webhook_parser() -> None:
    """Signed, each fixture is accepted by the route's own parser, payload intact."""
    for delivery in all_deliveries():
        parsed = parse_delivery(delivery.signed_headers(SECRET), delivery.body, SECRET)
        assert (parsed.event, parsed.delivery_id) == (delivery.event, delivery.delivery_id)
        assert parsed.payload == delivery.payload()


def test_pr_lifecycle_details() -> None:
    """Labels and Markdown on open, an inline comment, both reviews, a rename, a merge."""
    opened, comment, draft, ready, requested, inline, commented, approved, edited, merged = [
        d.payload() for d in scenario("pr-lifecycle")
    ]
    assert at(opened, "pull_request", "labels") != []
    assert "## " in text(opened, "pull_request", "body")
    assert at(draft, "pull_request", "draft") is True
    assert at(ready, "pull_request", "draft") is False
    assert at(requested, "requested_reviewer", "type") == "User"
    assert text(inline, "comment", "path") and isinstance(at(inline, "comment", "line"), int)
    assert at(inline, "comment", "pull_request_review_id") == at(commented, "review", "id")
    assert at(commented, "review", "state") == "commented"
    assert at(approved, "review", "state") == "approved"
    assert text(edited, "changes", "title", "from") != text(edited, "pull_request", "title")
    assert at(merged, "pull_request", "merged") is True
    assert text(merged, "pull_request", "merged_by", "login")
    assert at(comment, "issue", "pull_request", "merged_at") is None


def test_the_opened_delivery_is_full_size() -> None:
    """The opened payload stays as large as GitHub sends it (a benchmark relies on it)."""
    opened = scenario("pr-lifecycle")[0]
    assert 15_000 < len(opened.body) < 40_000


def test_forum_is_the_lifecycle_story_on_another_repository() -> None:
    """Same titles and steps as pr-lifecycle, different repository, PR and delivery ids."""
    lifecycle, forum = scenario("pr-lifecycle"), scenario("forum")
    assert [pr_title(d.payload()) for d in forum] == [pr_title(d.payload()) for d in lifecycle]
    assert not {d.delivery_id for d in forum} & {d.delivery_id for d in lifecycle}


def test_changes_requested_details() -> None:
    """The blocking review is later dismissed; new commits arrive in between; then a merge."""
    opened, blocking, sync, approved, dismissed, merged = [
        d.payload() for d in scenario("changes-requested")
    ]
    assert at(blocking, "review", "state") == "changes_requested"
    assert text(blocking, "review", "body")
    assert at(sync, "before") == at(opened, "pull_request", "head", "sha")
    assert at(sync, "after") == at(sync, "pull_request", "head", "sha") != at(sync, "before")
    assert at(approved, "review", "state") == "approved"
    assert at(dismissed, "review", "state") == "dismissed"
    assert at(dismissed, "review", "id") == at(blocking, "review", "id")
    assert at(merged, "pull_request", "merged") is True


def reviewers(payload: dict[str, object]) -> list[object]:
    """Return the logins a PR payload still asks for a review."""
    found = at(payload, "pull_request", "requested_reviewers")
    assert isinstance(found, list)
    return [at(r, "login") for r in found]


def test_review_reminders_details() -> None:
    """Reviewers asked on a draft, then ready; each review clears its reviewer; a merge."""
    payloads = [d.payload() for d in scenario("review-reminders")]
    assert [at(p, "pull_request", "draft") for p in payloads] == [
        True, False, False, False, True, False, False, False,
    ]  # fmt: skip
    assert [reviewers(p) for p in payloads] == [
        ["hubot"], ["hubot"], [], ["monalisa"], ["monalisa"], ["monalisa"], [], [],
    ]  # fmt: skip
    assert at(payloads[2], "review", "user", "login") == "hubot"
    assert at(payloads[3], "requested_reviewer", "login") == "monalisa"
    assert at(payloads[6], "review", "state") == "approved"
    assert at(payloads[7], "pull_request", "merged") is True


def test_review_digest_details() -> None:
    """Three PRs over three days: two ask at once, one after a draft; all end reviewed."""
    payloads = [d.payload() for d in scenario("review-digest")]
    assert [pr_number(p) for p in payloads] == [49, 50, 51, 49, 51, 49, 50, 51]
    assert [reviewers(p) for p in payloads[:3]] == [["hubot"], ["monalisa"], ["hubot"]]
    assert at(payloads[2], "pull_request", "draft") is True
    assert [at(p, "review", "state") for p in payloads if "review" in p] == ["approved"] * 3
    days = {when(p, "pull_request", "updated_at").date().isoformat() for p in payloads}
    assert days == {"2024-05-15", "2024-05-16", "2024-05-17"}


def test_closed_reopened_never_merges() -> None:
    """Both closes are without merge, and the PR is open again in between."""
    states = [
        (at(p, "action"), at(p, "pull_request", "state"), at(p, "pull_request", "merged"))
        for p in (d.payload() for d in scenario("closed-reopened"))
        if "pull_request" in p
    ]
    assert states == [
        ("opened", "open", False),
        ("closed", "closed", False),
        ("reopened", "open", False),
        ("closed", "closed", False),
    ]


def test_edge_cases_details() -> None:
    """Mentions in titles and comments, a 5,000-character comment, three quick renames."""
    payloads = [d.payload() for d in scenario("edge-cases")]
    assert "@everyone" in text(payloads[1], "pull_request", "title")
    mentions = text(payloads[2], "comment", "body")
    assert all(m in mentions for m in ("@everyone", "@here", "<@&123>"))
    assert 4_500 <= len(text(payloads[3], "comment", "body")) <= 6_000
    renames = [when(p, "pull_request", "updated_at") for p in payloads[4:]]
    assert (renames[-1] - renames[0]).total_seconds() < 60
    assert len({text(p, "pull_request", "title") for p in payloads[4:]}) == 3


def test_noise_ping_and_plain_issue() -> None:
    """The ping names its hook, and the issue is not a PR."""
    ping, *_, issue, comment = scenario("noise")
    payload = ping.payload()
    assert {"zen", "hook_id", "hook"} <= payload.keys()
    assert str(payload["hook_id"]) == ping.headers["X-GitHub-Hook-ID"]
    assert at(issue.payload(), "issue", "number") == at(comment.payload(), "issue", "number")
    assert all(pr_number(d.payload()) is None for d in scenario("noise"))


# --- signing ------------------------------------------------------------------------------


def test_sign_matches_githubs_documented_example() -> None:
    """GitHub's docs give this exact signature for this secret and body."""
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign(b"Hello, World!", SECRET) == expected


def test_signed_headers_match_an_independent_hmac() -> None:
    """Both signature headers are HMACs of the exact body bytes, and nothing else changes."""
    delivery = scenario("pr-lifecycle")[0]
    headers = delivery.signed_headers("s3cret")
    sha256 = hmac.new(b"s3cret", delivery.body, hashlib.sha256).hexdigest()
    sha1 = hmac.new(b"s3cret", delivery.body, hashlib.sha1).hexdigest()
    assert headers["X-Hub-Signature-256"] == f"sha256={sha256}"
    assert headers["X-Hub-Signature"] == f"sha1={sha1}"
    assert {k: v for k, v in headers.items() if not k.startswith("X-Hub-")} == delivery.headers
    assert "X-Hub-Signature-256" not in delivery.headers  # signing returns a new dict


def test_signature_verifies_only_with_the_right_secret_and_body() -> None:
    """The route's verifier accepts the right secret and rejects a wrong one or a changed body."""
    delivery = scenario("redelivery")[1]
    signature = delivery.signed_headers("right")["X-Hub-Signature-256"]
    verify_signature(delivery.body, signature, "right")
    with pytest.raises(SignatureError):
        verify_signature(delivery.body, signature, "wrong")
    with pytest.raises(SignatureError):
        verify_signature(delivery.body + b" ", signature, "right")


def test_body_is_the_compact_json_of_the_payload() -> None:
    """The body sent is the payload as compact JSON; payload() returns a fresh copy."""
    delivery = scenario("edge-cases")[3]
    recorded = json.loads(delivery.source.read_text(encoding="utf-8"))["payload"]
    assert delivery.body == json.dumps(recorded, separators=(",", ":")).encode()
    first = delivery.payload()
    first["action"] = "deleted"
    assert delivery.payload() == recorded


# --- loader errors and behaviour ----------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    """A path that does not exist is a FixtureError (a ValueError) naming the path."""
    missing = tmp_path / "nope.json"
    with pytest.raises(FixtureError, match="no such fixture file") as caught:
        load_delivery(missing)
    assert str(missing) in str(caught.value)
    assert isinstance(caught.value, ValueError)
    with pytest.raises(FixtureError, match="no such fixture file"):
        load_deliveries([missing])


def test_folder_given_to_load_delivery(tmp_path: Path) -> None:
    """load_delivery points to load_deliveries when given a folder."""
    with pytest.raises(FixtureError, match="load_deliveries"):
        load_delivery(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"headers": {', "invalid JSON"),
        ('{"headers": {}, "payload": {"x": NaN}}', "invalid JSON"),
        ("[1, 2]", "expected an object with 'headers' and 'payload'"),
        ('{"payload": {}}', "'headers' must be a JSON object"),
        ('{"headers": {"X-GitHub-Event": 1}, "payload": {}}', "must have a string value"),
    ],
)
def test_malformed_files(tmp_path: Path, content: str, message: str) -> None:
    """Unreadable JSON and wrongly shaped documents say what is wrong."""
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FixtureError, match=re.escape(message)):
        load_delivery(path)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"headers": {"X-GitHub-Delivery": "d-1"}, "payload": {}}, "missing X-GitHub-Event"),
        ({"headers": {"X-GitHub-Event": "ping"}, "payload": {}}, "missing X-GitHub-Delivery"),
        (minimal(**{"X-GitHub-Event": " "}), "missing X-GitHub-Event"),
        (minimal(**{"X-GitHub-Event": "Pull Request"}), "invalid X-GitHub-Event"),
        ({**minimal(), "payload": [1]}, "'payload' must be a JSON object"),
        ({"headers": minimal()["headers"]}, "'payload' must be a JSON object"),
        (minimal(**{"x-github-event": "push"}), "appears twice"),
    ],
)
def test_invalid_deliveries(tmp_path: Path, document: object, message: str) -> None:
    """Missing ids, a bad event name, a non-object payload and duplicate headers are refused."""
    with pytest.raises(FixtureError, match=re.escape(message)):
        load_delivery(write(tmp_path / "bad.json", document))


def test_header_names_match_case_insensitively(tmp_path: Path) -> None:
    """Any capitalisation loads; names are stored canonical; stale signatures are dropped."""
    document = {
        "headers": {
            "x-github-event": "issues",
            "X-GITHUB-DELIVERY": "abc-123",
            "x-github-hook-id": "7",
            "user-agent": "GitHub-Hookshot/0000000",
            "X-Hub-Signature-256": "sha256=" + "0" * 64,
            "x-hub-signature": "sha1=" + "0" * 40,
            "X-Custom-Thing": "kept",
        },
        "payload": {"action": "opened"},
    }
    delivery = load_delivery(write(tmp_path / "01-issue.json", document))
    assert (delivery.event, delivery.delivery_id) == ("issues", "abc-123")
    assert delivery.headers == {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "abc-123",
        "X-GitHub-Hook-ID": "7",
        "User-Agent": "GitHub-Hookshot/0000000",
        "X-Custom-Thing": "kept",
        "Content-Type": "application/json",
    }
    assert delivery.source == tmp_path / "01-issue.json"


def test_load_deliveries_keeps_the_order_given_and_sorts_folders(tmp_path: Path) -> None:
    """Paths load in the order given; a folder's *.json files load sorted by name."""
    folder = tmp_path / "story"
    folder.mkdir()
    for name in ("10-last.json", "02-second.json", "01-first.json"):
        write(folder / name, minimal(**{"X-GitHub-Delivery": name}))
    (folder / "notes.txt").write_text("not a fixture", encoding="utf-8")
    (folder / "nested").mkdir()
    single = write(tmp_path / "single.json", minimal(**{"X-GitHub-Delivery": "single"}))
    loaded = load_deliveries([single, folder, single])
    assert [d.delivery_id for d in loaded] == [
        "single",
        "01-first.json",
        "02-second.json",
        "10-last.json",
        "single",
    ]


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    """A folder without fixtures is most likely the wrong path."""
    with pytest.raises(FixtureError, match=r"no \*\.json fixtures"):
        load_deliveries([tmp_path])


# --- writing ------------------------------------------------------------------------------


def test_dump_then_load_round_trip(tmp_path: Path) -> None:
    """What dump_delivery writes loads back: same ids, canonical headers, same payload."""
    headers = {
        "x-github-event": "issue_comment",
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-GitHub-Hook-ID": "42",
        "X-Hub-Signature-256": "sha256=" + "1" * 64,
        "X-Hub-Signature": "sha1=" + "1" * 40,
        "content-type": "application/x-www-form-urlencoded",
    }
    payload: dict[str, object] = {"action": "created", "comment": {"body": "Ça marche 🎉"}}
    path = tmp_path / "exported" / "01-comment.json"
    dump_delivery(headers, payload, path)
    delivery = load_delivery(path)
    assert delivery.event == "issue_comment"
    assert delivery.delivery_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert delivery.headers == {
        "X-GitHub-Event": "issue_comment",
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-GitHub-Hook-ID": "42",
        "Content-Type": "application/json",
    }
    assert delivery.payload() == payload
    assert "Ça marche 🎉" in path.read_text(encoding="utf-8")  # readable, not \\u-escaped
    assert [p.name for p in path.parent.iterdir()] == ["01-comment.json"]


def test_committed_fixtures_are_byte_for_byte_what_dump_writes(tmp_path: Path) -> None:
    """Every committed fixture is in exactly the format dump_delivery writes."""
    for original in all_deliveries():
        copy = tmp_path / original.source.name
        dump_delivery(original.signed_headers("x"), original.payload(), copy)
        assert copy.read_bytes() == original.source.read_bytes(), original.source


@pytest.mark.parametrize(
    ("headers", "payload", "message"),
    [
        ({"X-GitHub-Delivery": "d-1"}, {}, "missing X-GitHub-Event"),
        ({"X-GitHub-Event": "push"}, {}, "missing X-GitHub-Delivery"),
        ({"X-GitHub-Event": "push", "X-GitHub-Delivery": "d"}, {"n": float("nan")}, "not JSON"),
    ],
)
def test_dump_refuses_what_would_not_load(
    tmp_path: Path, headers: dict[str, str], payload: dict[str, object], message: str
) -> None:
    """dump_delivery never writes a fixture that load_delivery would refuse."""
    path = tmp_path / "01-x.json"
    with pytest.raises(FixtureError, match=message):
        dump_delivery(headers, payload, path)
    assert list(tmp_path.iterdir()) == []


# --- finding the scenarios ----------------------------------------------------------------


def test_scenarios_dir_is_found_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder is found next to the package whatever the working directory."""
    expected = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
    monkeypatch.chdir(tmp_path)
    assert scenarios_dir() == expected


def test_scenarios_dir_falls_back_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed package run from inside the repository uses ./fixtures/scenarios."""
    installed = tmp_path / "site-packages" / "bot" / "fixtures.py"
    monkeypatch.setattr(fixtures, "__file__", str(installed))
    checkout = tmp_path / "checkout"
    (checkout / "fixtures" / "scenarios").mkdir(parents=True)
    monkeypatch.chdir(checkout)
    assert scenarios_dir() == checkout / "fixtures" / "scenarios"
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FixtureError, match="no fixtures/scenarios folder"):
        scenarios_dir()


def test_ci_is_a_forks_pr_that_no_ci_payload_names() -> None:
    """The head is a fork's branch; checks and statuses name its commits, never the PR."""
    payloads = [d.payload() for d in scenario("ci")]
    opened, sync = payloads[0], payloads[7]
    first = text(opened, "pull_request", "head", "sha")
    second = text(sync, "pull_request", "head", "sha")
    assert at(opened, "pull_request", "head", "repo", "fork") is True
    assert at(sync, "before") == first != second == at(sync, "after")
    shas = [at(p, "check_run", "head_sha") or at(p, "sha") for p in payloads[1:7]]
    assert shas[1:] == [first] * 5
    assert at(payloads[1], "check_suite", "head_sha") == first
    assert at(payloads[8], "check_run", "head_sha") == second
    assert at(payloads[9], "workflow_run", "head_sha") == second
    for p in payloads[1:7] + payloads[8:]:
        for key in ("check_run", "check_suite", "workflow_run"):
            assert at(p, key, "pull_requests") in (None, []), p
    lint = [p for p in payloads if at(p, "check_run", "name") == "lint"]
    runs = [
        (at(p, "check_run", "conclusion"), at(p, "check_run", "head_sha") == first) for p in lint
    ]
    assert runs == [
        ("failure", True),
        ("failure", True),
        ("success", False),
    ]
    assert at(payloads[4], "state") == "error"


def test_edits_change_what_was_posted() -> None:
    """Edits and deletes name the comment or review they change, with the previous body."""
    payloads = [d.payload() for d in scenario("edits")]
    comment = at(payloads[1], "comment", "id")
    assert [at(payloads[i], "comment", "id") for i in (2, 12, 13)] == [comment] * 3
    assert at(payloads[2], "changes", "body", "from") == text(payloads[1], "comment", "body")
    assert at(payloads[4], "comment", "id") == at(payloads[3], "comment", "id")
    assert at(payloads[6], "review", "id") == at(payloads[5], "review", "id")
    assert at(payloads[6], "changes", "body", "from") == text(payloads[5], "review", "body")
    assert text(payloads[7], "label", "name") == "good first issue"
    assert text(payloads[8], "label", "name") == "documentation"
    assert at(payloads[10], "requested_reviewer", "login") == "monalisa"
    assert at(payloads[11], "pull_request", "merged") is True
