"""The team's AI gateway: the org's provider keys, budget and rate limit kept on the server, and an OpenAI-compatible
API at ``/v1`` that members call with their access token instead of a provider key.

Nothing here imports litellm at start-up (``upstream`` imports it on the first call, off the event loop).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from sync_server.gateway import admin, openai_api


def routes() -> list[BaseRoute]:
    return [*admin.routes(), *openai_api.routes()]
