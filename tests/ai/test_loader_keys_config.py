"""litellm stays off the import path; provider keys live only in the keyring; the AI settings and provider chain."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from app.ai.config import AiConfig, load_entries, save_entries
from app.ai.keys import ProviderKeys, mask
from app.ai.types import ProviderEntry
from app.core.errors import KeyringUnavailable
from app.store.store import Store
from tests.support.keyrings import InMemoryKeyring

SECRET = "sk-proj-verysecretvalue-a1b2"


def test_importing_app_ai_and_the_app_does_not_import_litellm() -> None:
    code = (
        "import pkgutil, importlib, sys, app.ai\n"
        "for m in pkgutil.walk_packages(app.ai.__path__, 'app.ai.'):\n"
        "    importlib.import_module(m.name)\n"
        "import app.bootstrap, app.ui.pages.settings, app.ui.pages.ai_settings\n"  # the start-up path and the AI card
        "print('litellm' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"


def test_loader_imports_on_a_thread_with_the_local_cost_map(loader: object) -> None:
    import os

    from app.ai.litellm_loader import default_loader

    assert default_loader.loaded
    assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert default_loader.get_blocking() is sys.modules["litellm"]


def test_keys_set_get_delete_and_mask(keys: ProviderKeys, keyring_backend: InMemoryKeyring) -> None:
    assert not keys.has("e1")
    keys.set("e1", f"  {SECRET}\n")
    assert keys.get("e1") == SECRET
    assert keyring_backend.entries == {("parley-ai", "e1"): SECRET}
    assert keys.masked("e1") == "sk-…a1b2"
    assert mask("abc") == "…bc"
    keys.delete("e1")
    keys.delete("e1")  # deleting twice is fine
    assert not keys.has("e1")
    with pytest.raises(ValueError, match="empty"):
        keys.set("e1", "  ")


def test_keys_refuse_an_insecure_keyring() -> None:
    from keyring.backends.null import Keyring as NullKeyring

    keys = ProviderKeys(NullKeyring())
    with pytest.raises(KeyringUnavailable, match="will not keep the provider key"):
        keys.set("e1", SECRET)
    assert keys.get("e1") is None


def test_key_never_reaches_settings_tables_or_logs(
    store: Store, keys: ProviderKeys, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    entry = ProviderEntry(id="e1", kind="openai", model="gpt-4o-mini")
    save_entries(store.settings, [entry])
    keys.set("e1", SECRET)
    store.settings.ai.mode = "byok"
    with store.db.read() as conn:
        rows = [str(r) for t in ("settings", "workspace_meta") for r in conn.execute(f"SELECT * FROM {t}")]
    assert rows
    assert not any(SECRET in r or "a1b2" in r for r in rows)
    assert SECRET not in caplog.text


def test_ai_settings_are_declared_with_safe_defaults(store: Store) -> None:
    config = AiConfig.read(store.settings)
    assert (config.mode, config.temperature, config.keep_transcripts, config.redact_cloud) == ("off", 0.4, False, True)
    assert config.entries == ()


def test_provider_chain_round_trips_and_is_validated(store: Store) -> None:
    entries = [
        ProviderEntry(id="a", kind="openai", model="gpt-4o-mini", embedding_model="text-embedding-3-small"),
        ProviderEntry(id="b", kind="openai_compatible", model="llama3.1", base_url="http://127.0.0.1:11434/v1"),
    ]
    save_entries(store.settings, entries)
    assert load_entries(store.settings) == entries
    with pytest.raises(ValueError, match="address"):
        save_entries(store.settings, [ProviderEntry(id="c", kind="openai_compatible", model="x")])
    with pytest.raises(ValueError, match="share the id"):
        save_entries(store.settings, [entries[0], entries[0]])
    store.settings.internal.ai_providers = [{"id": "x", "kind": "nonsense"}]
    assert load_entries(store.settings) == []
