"""Loading the WhatsApp page profile: the packaged file, and a newer workspace override that wins without a release."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from app.resources import resource
from app.whatsapp.profile import REQUIRED_ENTRIES, Profile, load_profile, version_tuple

PACKAGED = resource("whatsapp", "profiles", "whatsapp-web-1.json")


def _packaged_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PACKAGED.read_text(encoding="utf-8"))
    return data


def _write_override(workspace: Path, data: dict[str, Any] | str) -> Path:
    path = workspace / "whatsapp" / "profile.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _bumped(version: str, step: int) -> str:
    parts = list(version_tuple(version))
    parts[-1] += step
    return ".".join(str(p) for p in parts)


def test_packaged_profile_loads() -> None:
    profile = load_profile(None)
    assert profile.format == "parley-whatsapp-profile/1"
    assert version_tuple(profile.version) >= (2026, 11, 1)
    assert profile.supported_web_versions
    assert set(profile.entries) >= REQUIRED_ENTRIES
    assert profile.entry("qr_container").selectors[0] == "div[data-ref]"
    assert profile.entry("send_button").selectors == (
        'span[data-icon="send"]',
        'span[data-icon="wds-ic-send-filled"]',
        'button[aria-label="Send"]',
        '[data-testid="compose-btn-send"]',
    )
    assert profile.entry("composer").required_in == "chat_open"
    assert all(e.description for e in profile.entries.values())
    assert "read_qr_ref" in profile.scripts
    assert list(profile.entries_for("landing")) == ["startup", "qr_container", "qr_canvas", "qr_reload"]
    assert "chat_list" in profile.entries_for("chat_open")  # an open chat still shows the chat list
    with pytest.raises(ValueError, match="unknown page state"):
        profile.entries_for("loading")
    with pytest.raises(KeyError, match="no entry"):
        profile.entry("nope")


def test_workspace_without_override_uses_packaged(tmp_path: Path) -> None:
    assert load_profile(tmp_path) == load_profile(None)


def test_newer_valid_override_wins(tmp_path: Path) -> None:
    data = _packaged_json()
    data["version"] = _bumped(data["version"], 1)
    data["entries"]["composer"]["selectors"] = ["#main footer div.new-composer", "#main footer [contenteditable]"]
    _write_override(tmp_path, data)
    profile = load_profile(tmp_path)
    assert profile.version == data["version"]
    assert profile.entry("composer").selectors[0] == "#main footer div.new-composer"


def test_versions_compare_as_integers(tmp_path: Path) -> None:
    packaged = load_profile(None)
    data = _packaged_json()
    major, minor, *_ = version_tuple(packaged.version)
    data["version"] = f"{major}.{minor + 1}.0"  # "2026.12.0" > "2026.11.1" even though "1" > "0" as text
    _write_override(tmp_path, data)
    assert load_profile(tmp_path).version == data["version"]
    data["version"] = f"{packaged.version}.1"  # a longer tuple with the same prefix is newer
    _write_override(tmp_path, data)
    assert version_tuple(load_profile(tmp_path).version) > version_tuple(packaged.version)


@pytest.mark.parametrize("step", [0, -1])
def test_same_or_older_override_is_ignored(tmp_path: Path, step: int, caplog: pytest.LogCaptureFixture) -> None:
    data = _packaged_json()
    data["version"] = _bumped(data["version"], step)
    data["entries"]["composer"]["selectors"] = ["#stale"]
    _write_override(tmp_path, data)
    with caplog.at_level(logging.INFO, logger="app.whatsapp.profile"):
        profile = load_profile(tmp_path)
    assert profile == load_profile(None)
    assert "not newer" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda d: "{ not json", id="not-json"),
        pytest.param(
            lambda d: {**d, "entries": {k: v for k, v in d["entries"].items() if k != "composer"}}, id="no-composer"
        ),
        pytest.param(lambda d: {**d, "version": "next"}, id="bad-version"),
        pytest.param(lambda d: {**d, "format": "parley-whatsapp-profile/99"}, id="unknown-format"),
        pytest.param(
            lambda d: {**d, "entries": {**d["entries"], "composer": {**d["entries"]["composer"], "selectors": []}}},
            id="no-selectors",
        ),
        pytest.param(
            lambda d: {**d, "entries": {**d["entries"], "composer": {**d["entries"]["composer"], "required_in": "x"}}},
            id="bad-state",
        ),
    ],
)
def test_invalid_override_is_ignored_with_a_warning(
    tmp_path: Path, corrupt: Any, caplog: pytest.LogCaptureFixture
) -> None:
    data = _packaged_json()
    data["version"] = _bumped(data["version"], 5)  # newer, so only its invalidity keeps it out
    path = _write_override(tmp_path, corrupt(data))
    with caplog.at_level(logging.WARNING, logger="app.whatsapp.profile"):
        profile = load_profile(tmp_path)
    assert profile == load_profile(None)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert str(path) in warnings[0].getMessage()
    assert "not valid" in warnings[0].getMessage()


def test_unreadable_override_is_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "whatsapp" / "profile.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe\x00garbage")
    with caplog.at_level(logging.WARNING, logger="app.whatsapp.profile"):
        assert load_profile(tmp_path) == load_profile(None)
    assert "not valid" in caplog.text


def test_profile_model_is_frozen() -> None:
    profile = load_profile(None)
    assert isinstance(profile, Profile)
    with pytest.raises(ValueError, match="frozen"):
        profile.version = "9999"  # type: ignore[misc]
