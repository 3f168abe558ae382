"""Cloud mode: the same calls through the team's Parley server, whose AI gateway uses the org's keys, budgets and
rate limits.

The gateway speaks the OpenAI chat-completions / embeddings API at ``<server>/v1`` and takes the signed-in user's
access token as the bearer key, so the client is the litellm path with a different address and key
(``openai/<gateway model>``, ``api_base=<server>/v1``). The token is asked for at each call (it is refreshed by the
sync client); a 401 means it expired, which the user fixes by signing in again, not by editing a provider key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.ai.byok import LitellmCaller, describe_failure
from app.ai.chain import FallbackChain
from app.ai.litellm_loader import LitellmLoader, default_loader
from app.ai.provider_core import ChainPolicy, Cooldowns, Failure
from app.ai.types import ProviderEntry

GATEWAY_ID = "cloud"
SIGN_IN_AGAIN = "Your sign-in to the Parley server has expired: sign in again to use AI replies."


@dataclass(frozen=True)
class CloudAccess:
    """Where the gateway is and how to authenticate to it (supplied by the sync client)."""

    server_url: str  # e.g. https://parley.example.com
    token: Callable[[], str | None]  # the current access token, or None when signed out
    chat_model: str = "default"  # the gateway maps its own model names to the org's providers
    embedding_model: str | None = "default-embedding"

    def entry(self) -> ProviderEntry:
        return ProviderEntry(
            id=GATEWAY_ID,
            kind="openai_compatible",
            model=self.chat_model,
            base_url=self.server_url.rstrip("/") + "/v1",
            embedding_model=self.embedding_model,
        )


class GatewayCaller(LitellmCaller):
    def __init__(self, access: CloudAccess, loader: LitellmLoader = default_loader) -> None:
        super().__init__(None, loader)  # no provider keys: the access token is the key
        self.access = access

    def available(self, entry: ProviderEntry) -> bool:
        return bool(self.access.token())

    def _key(self, entry: ProviderEntry) -> str | None:
        token = self.access.token()
        if not token:
            raise Failure("invalid_key", "signed out")
        return token

    def cost(self, entry: ProviderEntry, prompt_tokens: int, completion_tokens: int) -> float:
        return 0.0  # the gateway meters and bills; the client only reports tokens

    def message(self, entry: ProviderEntry, failure: Failure) -> str:
        if failure.kind == "invalid_key":
            return SIGN_IN_AGAIN
        if failure.kind == "quota":
            return "Your team's AI budget on the Parley server is used up: ask the owner to raise it."
        return describe_failure("The Parley server", entry.model, failure)


class CloudProvider(FallbackChain):
    """The ``Provider`` for cloud mode: one entry, the gateway."""

    def __init__(
        self,
        access: CloudAccess,
        *,
        loader: LitellmLoader = default_loader,
        policy: ChainPolicy | None = None,
        cooldowns: Cooldowns | None = None,
    ) -> None:
        super().__init__(
            [access.entry()],
            GatewayCaller(access, loader),
            policy=policy,
            cooldowns=cooldowns,
            no_entry_message="AI through the Parley server needs you to sign in to it first.",
        )
