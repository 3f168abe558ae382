"""The AI service the app holds: builds the provider for the current mode from settings at each call, so a change in
Settings › AI applies to the next call without restarting anything, while cooldowns persist across calls.

Off → ``AIError("no_provider")``; BYOK → the user's chain with keys from the keyring; cloud → the sync server's
gateway (when the app is signed in to one). It also runs the "Test key" call of the settings page.
"""

from __future__ import annotations

from app.ai.byok import ByokProvider
from app.ai.cloud import CloudAccess, CloudProvider
from app.ai.config import AiConfig
from app.ai.interactions import InteractionLog
from app.ai.keys import ProviderKeys
from app.ai.litellm_loader import LitellmLoader, default_loader
from app.ai.provider_core import ChainPolicy, Cooldowns
from app.ai.types import AIError, CallOptions, ChatMessage, Done, Provider, ProviderEntry, Usage
from app.core.loops import LoopThread
from app.core.settings import Settings
from app.store.store import Store

AI_OFF = "AI replies are off: turn them on in Settings › AI."
TEST_OPTIONS = CallOptions(temperature=0, max_tokens=5, timeout_seconds=30, first_token_seconds=20)


class AiService:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        keys: ProviderKeys,
        *,
        loader: LitellmLoader = default_loader,
        cloud: CloudAccess | None = None,
        policy: ChainPolicy | None = None,
        loop: LoopThread | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.keys = keys
        self.loader = loader
        self.cloud = cloud  # set by the sync client once signed in
        self.policy = policy or ChainPolicy()
        self.cooldowns = Cooldowns()
        self.log = InteractionLog(store, settings)
        self._loop = loop

    @property
    def loop(self) -> LoopThread:
        """Where provider calls made from blocking code run: the app's service loop (bootstrap hands it in; made on
        first use without one). Never a loop per call: nested loops would each hold the provider's clients."""
        if self._loop is None:
            self._loop = LoopThread()
        return self._loop

    def config(self) -> AiConfig:
        return AiConfig.read(self.settings)

    def provider(self) -> Provider:
        config = self.config()
        if config.mode == "off":
            raise AIError("no_provider", AI_OFF)
        if config.mode == "cloud":
            if self.cloud is None:
                raise AIError("no_provider", "AI through the Parley server needs you to sign in to it first.")
            return CloudProvider(self.cloud, loader=self.loader, policy=self.policy, cooldowns=self.cooldowns)
        return ByokProvider(config.entries, self.keys, loader=self.loader, policy=self.policy, cooldowns=self.cooldowns)

    def key_changed(self, entry_id: str) -> None:
        """A new key was saved: an entry cooling down after a refused key may be tried at once."""
        self.cooldowns.clear(entry_id)

    async def test_entry(self, entry: ProviderEntry, options: CallOptions = TEST_OPTIONS) -> Usage:
        """A tiny call through one entry alone (no retries, no fallback): the settings page's "Test key"."""
        self.cooldowns.clear(entry.id)
        chain = ByokProvider([entry], self.keys, loader=self.loader, policy=ChainPolicy(retries=0, cooldown_seconds=0))
        messages = [ChatMessage(role="user", content="Reply with the single word: ok")]
        async for event in self.log.stream(chain, messages, options, purpose="test", mode="byok"):
            if isinstance(event, Done):
                return event.usage
        raise AIError("malformed", "The provider ended the answer without finishing it.")  # pragma: no cover
