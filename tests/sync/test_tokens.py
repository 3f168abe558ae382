"""Access tokens, refresh-token shape and log redaction, without a server: the pieces whose mistakes a server test
would only show indirectly."""

from __future__ import annotations

import logging
import time

import pytest

from sync_server import logs, tokens

SECRET = b"k" * 32


def fresh_claims() -> tokens.AccessClaims:
    return tokens.AccessClaims(org="o1", sub="m1", dev="d1", role="admin", exp=int(time.time()) + 600)


def test_access_token_round_trip_and_tampering() -> None:
    claims = fresh_claims()
    token = tokens.issue_access(SECRET, claims)
    assert tokens.verify_access(SECRET, token) == claims
    body, sig = token.split(".")
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify_access(b"j" * 32, token)  # another server's secret
    forged_body = tokens.b64url(b'{"dev":"d1","exp":9999999999,"org":"o1","role":"owner","sub":"m1"}')
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify_access(SECRET, f"{forged_body}.{sig}")
    for garbage in ("", ".", "abc", f"{body}.", f".{sig}", f"{body}.{sig}x", "é.é"):
        with pytest.raises(tokens.TokenInvalid):
            tokens.verify_access(SECRET, garbage)
    # The signing key is derived, not the secret itself.
    assert tokens.access_key(SECRET) != SECRET
    assert len(tokens.access_key(SECRET)) == 32


def test_expired_access_token() -> None:
    claims = fresh_claims()
    token = tokens.issue_access(SECRET, claims)
    with pytest.raises(tokens.TokenExpired):
        tokens.verify_access(SECRET, token, now=claims.exp)
    assert tokens.verify_access(SECRET, token, now=claims.exp - 1) == claims


def test_refresh_tokens_name_their_device_and_are_hashed() -> None:
    token, digest = tokens.new_refresh("dev-1")
    again, other = tokens.new_refresh("dev-1")
    assert token != again
    assert digest != other
    assert tokens.refresh_device(token) == "dev-1"
    assert tokens.hash_secret(token) == digest
    assert len(digest) == 32
    assert tokens.refresh_device("no-dot-here") is None
    assert tokens.refresh_device("dev-1.short") is None


def test_log_lines_are_one_line_and_blank_secrets(caplog: pytest.LogCaptureFixture) -> None:
    formatter = logs.KeyValueFormatter()
    logger = logging.getLogger("tests.logs")
    with caplog.at_level(logging.INFO, logger="tests.logs"):
        logs.event(logger, "login", org="o1", password="hunter2hunter2", refresh_token="rt-secret", note="two\nlines")
        logger.info("client sent Authorization: Bearer abc.def and api_key=sk-123")
    first, second = (formatter.format(r) for r in caplog.records)
    assert "\n" not in first
    assert "msg=login org=o1" in first
    assert "hunter2" not in first
    assert "rt-secret" not in first
    assert "abc.def" not in second
    assert "sk-123" not in second
