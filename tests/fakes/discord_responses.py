"""HTTP responses shaped like Discord's: JSON errors, rate-limit headers, 429s, 5xx bodies.

https://discord.com/developers/docs/topics/rate-limits#header-format and #exceeding-a-rate-limit.
"""

from __future__ import annotations

import json
import math
from typing import Any

from aiohttp import web

from tests.fakes.discord_models import JSONObject
from tests.fakes.discord_rules import DiscordError
from tests.fakes.discord_traffic import BucketState, Fault

# Discord answers through Google's load balancer; discord.py treats a 429 without Via as a
# Cloudflare ban and raises at once instead of waiting (discord/http.py, HTTPClient.request).
VIA = "1.1 google"
CLOUDFLARE_BAN_PAGE = "<html><body>error code: 1015 (you are being rate limited)</body></html>"

# Bodies real 5xx responses arrive with: JSON from the API, HTML from Cloudflare, text from Envoy.
SERVER_ERROR_BODIES: dict[int, tuple[str, str]] = {
    500: ('{"message": "500: Internal Server Error", "code": 0}', "application/json"),
    502: (
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
        "</body>\r\n</html>\r\n",
        "text/html",
    ),
    503: (
        "upstream connect error or disconnect/reset before headers. reset reason: overflow",
        "text/plain",
    ),
    504: ("<html><body><h1>504 Gateway Time-out</h1></body></html>", "text/html"),
}


def json_response(payload: object, status: int = 200) -> web.Response:
    """Return JSON with exactly ``Content-Type: application/json``, as Discord sends it.

    discord.py only decodes a body whose content type is exactly that string (no charset).
    """
    body = json.dumps(payload).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json"})


async def read_json(request: web.Request) -> JSONObject | list[Any]:
    """Parse the JSON body (or multipart ``payload_json``) as Discord does; empty is ``{}``."""
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        raw = str(form.get("payload_json") or "{}")
    else:
        raw = await request.text()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise DiscordError(400, 50109, "The request body contains invalid JSON.") from None
    if not isinstance(body, dict | list):  # a list: PUT of application commands
        raise DiscordError(400, 50035, "Invalid Form Body")
    return body


def error_response(error: DiscordError, bucket: BucketState | None = None) -> web.StreamResponse:
    """Return ``error`` as Discord's JSON error body with its status."""
    return with_headers(json_response(error.body(), status=error.status), bucket)


def with_headers(response: web.StreamResponse, bucket: BucketState | None) -> web.StreamResponse:
    """Add ``Via`` and, for a routed request, the X-RateLimit-* headers of its bucket."""
    response.headers["Via"] = VIA
    if bucket is not None:
        response.headers.update(
            {
                "X-RateLimit-Limit": str(bucket.limit),
                "X-RateLimit-Remaining": str(bucket.remaining),
                "X-RateLimit-Reset": f"{bucket.reset_at:.3f}",
                "X-RateLimit-Reset-After": f"{bucket.reset_after_s:.3f}",
                "X-RateLimit-Bucket": bucket.bucket,
            }
        )
    return response


def rate_limited(
    retry_after_s: float, bucket: BucketState | None, *, scope: str
) -> web.StreamResponse:
    """Return a 429 as Discord sends it: JSON body, Retry-After, X-RateLimit-Scope and Via."""
    is_global = scope == "global"
    body = {
        "message": "You are being rate limited.",
        "retry_after": round(retry_after_s, 3),
        "global": is_global,
    }
    response = json_response(body, status=429)
    response.headers["Retry-After"] = str(max(1, math.ceil(retry_after_s)))
    response.headers["X-RateLimit-Scope"] = scope
    if is_global:
        response.headers["X-RateLimit-Global"] = "true"
    return with_headers(response, bucket)


def fault_response(fault: Fault, bucket: BucketState | None) -> web.StreamResponse:
    """Return the response for an injected fault."""
    if fault.status == 429 and fault.cloudflare:
        headers = {"Content-Type": "text/html"}
        return web.Response(status=429, body=CLOUDFLARE_BAN_PAGE.encode(), headers=headers)
    if fault.status == 429:
        return rate_limited(fault.retry_after_s, bucket, scope=fault.scope)
    if fault.status >= 500:
        # Errors from in front of the API carry no rate-limit headers.
        text, content_type = SERVER_ERROR_BODIES.get(fault.status, SERVER_ERROR_BODIES[500])
        headers = {"Content-Type": content_type}
        return web.Response(status=fault.status, body=text.encode(), headers=headers)
    return error_response(DiscordError(fault.status, 0, f"{fault.status}: injected"), bucket)
