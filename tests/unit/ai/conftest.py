"""Knowledge-base tests that need an AI provider use the real ``ByokProvider`` against the local OpenAI-compatible
test server, with the same fixtures as the provider tests (litellm imported once per session)."""

from tests.ai.conftest import keys, loader, server  # noqa: F401  (fixtures, shared by name)
