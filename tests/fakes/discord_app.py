"""The fake bot's application: its flags, its interactions key, its commands, its interactions.

Rules from https://discord.com/developers/docs/interactions: requests to the interactions
endpoint are signed with the application's Ed25519 key (`verify_key` in
`GET /oauth2/applications/@me`); an interaction token works for 15 minutes, after which
`PATCH /webhooks/{application_id}/{token}/messages/@original` answers 404 Unknown Webhook, and
before the first response there is no original message (404 Unknown Message); `PUT` of an
application's commands replaces them all, global or in one guild, with the documented limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.fakes.discord_clock import FakeClock, Snowflakes
from tests.fakes.discord_models import JSONObject
from tests.fakes.discord_rules import DiscordError, FormErrors, check_length, check_message

TOKEN_TTL_S = 15 * 60
# https://discord.com/developers/docs/interactions/application-commands#application-command-object
CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
COMMANDS_MAX = {CHAT_INPUT: 100, USER_COMMAND: 5, MESSAGE_COMMAND: 5}
OPTIONS_MAX = 25
SUB_TYPES = (1, 2)
_CHAT_NAME = re.compile(r"^[-_\w]{1,32}$")
# https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-interaction-callback-type
ANSWER_TYPES = (4, 5)


def unknown_webhook() -> DiscordError:
    """Return 10015: the token is wrong or expired."""
    return DiscordError(404, 10015, "Unknown Webhook")


@dataclass
class Interaction:
    """One interaction sent to the app: its token, when, prbot's response and later edits."""

    id: int
    token: str
    created_at: float
    payload: JSONObject
    response: JSONObject | None = None  # what the endpoint answered (type 1, 4 or 5)
    status: int | None = None  # the endpoint's HTTP status
    edits: list[JSONObject] = field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        """Tell whether the answer is only shown to the member (flags 64 at the response)."""
        data = (self.response or {}).get("data") or {}
        return bool(int(data.get("flags", 0)) & 64)

    @property
    def content(self) -> str | None:
        """Return the answer as the member sees it now (None: nothing but "thinking…")."""
        if self.edits:
            return str(self.edits[-1].get("content", ""))
        data = (self.response or {}).get("data") or {}
        return data.get("content") if (self.response or {}).get("type") == 4 else None


class FakeApplication:
    """The bot's application as Discord keeps it."""

    def __init__(self, application_id: int, clock: FakeClock, ids: Snowflakes) -> None:
        self.id = application_id
        self.clock = clock
        self.ids = ids
        self.flags = 0  # GATEWAY_MESSAGE_CONTENT 1 << 18, GATEWAY_MESSAGE_CONTENT_LIMITED 1 << 19
        self.interactions_endpoint_url: str | None = None
        self._key = Ed25519PrivateKey.generate()
        self.global_commands: list[JSONObject] = []
        self.guild_commands: dict[int, list[JSONObject]] = {}
        self.interactions: dict[str, Interaction] = {}

    @property
    def verify_key(self) -> str:
        """The public key (hex) interactions are signed with: DISCORD_PUBLIC_KEY."""
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return raw.hex()

    def sign(self, timestamp: str, body: bytes) -> str:
        """Return `X-Signature-Ed25519` for a request Discord sends."""
        return self._key.sign(timestamp.encode() + body).hex()

    def open_interaction(self, payload: JSONObject) -> Interaction:
        """Give an interaction its id and token, starting its 15 minutes."""
        interaction_id = self.ids.next()
        token = f"aW50ZXJhY3Rpb24.{interaction_id}.{self.ids.next():x}"
        payload = {**payload, "id": str(interaction_id), "token": token}
        payload["application_id"] = str(self.id)
        found = Interaction(interaction_id, token, self.clock.now(), payload)
        self.interactions[token] = found
        return found

    def interaction(self, interaction_id: int) -> Interaction:
        """Return an interaction by id."""
        return next(i for i in self.interactions.values() if i.id == interaction_id)

    # -- REST -------------------------------------------------------------------------------------

    def edit_original(self, application_id: int, token: str, body: JSONObject) -> JSONObject:
        """PATCH /webhooks/{application_id}/{token}/messages/@original."""
        found = self.interactions.get(token)
        if found is None or application_id != self.id:
            raise unknown_webhook()
        if self.clock.now() - found.created_at > TOKEN_TTL_S:
            raise unknown_webhook()
        if found.response is None or found.response.get("type") not in ANSWER_TYPES:
            raise DiscordError(404, 10008, "Unknown Message")
        errors = FormErrors()
        check_message(errors, body)
        errors.raise_if_any()
        found.edits.append(body)
        return {
            "id": str(found.id),
            "type": 20,  # CHAT_INPUT_COMMAND reply
            "content": body.get("content", ""),
            "flags": 64 if found.ephemeral else 0,
            "webhook_id": str(self.id),
            "application_id": str(self.id),
        }

    def put_commands(
        self, application_id: int, guild_id: int | None, body: object
    ) -> list[JSONObject]:
        """PUT /applications/{id}/commands or …/guilds/{guild_id}/commands: replace them all."""
        if application_id != self.id:
            raise DiscordError(403, 50001, "Missing Access")
        if not isinstance(body, list):
            raise DiscordError(400, 50035, "Invalid Form Body")
        errors = FormErrors()
        check_commands(errors, body)
        errors.raise_if_any()
        made = [self._registered(c, guild_id) for c in body]
        if guild_id is None:
            self.global_commands = made
        else:
            self.guild_commands[guild_id] = made
        return made

    def _registered(self, command: JSONObject, guild_id: int | None) -> JSONObject:
        kind = int(command.get("type", CHAT_INPUT))
        out: JSONObject = {
            "id": str(self.ids.next()),
            "application_id": str(self.id),
            "version": str(self.ids.next()),
            "type": kind,
            "name": command["name"],
            "description": command.get("description", "") if kind == CHAT_INPUT else "",
            "options": command.get("options", []),
            "default_member_permissions": command.get("default_member_permissions"),
            "contexts": command.get("contexts"),
            "nsfw": False,
        }
        if guild_id is not None:
            out["guild_id"] = str(guild_id)
        return out


def check_commands(errors: FormErrors, commands: list[object]) -> None:
    """Check names, descriptions, options and the per-type limits of a bulk command list."""
    seen: dict[tuple[int, str], int] = {}
    for index, command in enumerate(commands):
        if not isinstance(command, dict):
            errors.add((index,), "MODEL_TYPE_CONVERT", "Only dictionaries may be used.")
            continue
        kind = int(command.get("type", CHAT_INPUT))
        name = command.get("name")
        if kind == CHAT_INPUT:
            _check_chat_name(errors, (index, "name"), name)
            check_length(errors, (index, "description"), command.get("description"), 1, 100)
            _check_options(errors, (index, "options"), command.get("options", []))
        else:
            check_length(errors, (index, "name"), name, 1, 32)
            if command.get("description"):
                errors.add((index, "description"), "APPLICATION_COMMAND_INVALID", "Must be empty.")
        key = (kind, str(name))
        if key in seen:
            errors.add((index, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME",
                       "Application command names must be unique")  # fmt: skip
        seen[key] = index
    for kind, limit in COMMANDS_MAX.items():
        if sum(1 for k, _ in seen if k == kind) > limit:
            errors.add(("_errors",), "APPLICATION_COMMAND_TOO_LARGE", f"More than {limit}.")


def _check_chat_name(errors: FormErrors, path: tuple[str | int, ...], name: object) -> None:
    if not isinstance(name, str) or not _CHAT_NAME.match(name) or name != name.lower():
        errors.add(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")


def _check_options(errors: FormErrors, path: tuple[str | int, ...], options: object) -> None:
    if not isinstance(options, list) or len(options) > OPTIONS_MAX:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {OPTIONS_MAX} or fewer in length.")
        return
    subs = [o for o in options if isinstance(o, dict) and o.get("type") in SUB_TYPES]
    if subs and len(subs) != len(options):
        why = "Sub-command and sub-command group option types are mutually exclusive"
        errors.add(path, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", why)
    optional_seen = False
    for i, option in enumerate(options):
        if not isinstance(option, dict):
            errors.add((*path, i), "MODEL_TYPE_CONVERT", "Only dictionaries may be used.")
            continue
        _check_chat_name(errors, (*path, i, "name"), option.get("name"))
        check_length(errors, (*path, i, "description"), option.get("description"), 1, 100)
        if option.get("type") in SUB_TYPES:
            _check_options(errors, (*path, i, "options"), option.get("options", []))
        elif option.get("required"):
            if optional_seen:
                why = "Required options must be placed before non-required options"
                errors.add((*path, i), "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", why)
        else:
            optional_seen = True
