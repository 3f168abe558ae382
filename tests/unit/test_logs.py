"""The log formatter masks secrets and customer input, in messages and in tracebacks."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

from pydantic import BaseModel, ValidationError

from app import logs
from app.store import keys


class Contactish(BaseModel):
    lead_score: int


def test_secrets_and_customer_input_are_masked_in_the_file(tmp_path: Path) -> None:
    key = keys.random_key()
    logs.log_to(tmp_path)
    log = logging.getLogger("test.logs")
    log.setLevel(logging.INFO)
    try:
        log.info("applying x'%s'", key.hex())
        log.info("keyring value %s", base64.b64encode(key).decode())
        log.info("header Authorization: Bearer abcdefghijklmnop.qrstu")
        typed_by_customer = "call me on +34 " + "600 111 222"  # not in this source line's traceback text
        try:
            Contactish.model_validate({"lead_score": typed_by_customer})
        except ValidationError:
            log.warning("task failed", exc_info=True)
        try:
            raise RuntimeError(f"bad key {key.hex()}")
        except RuntimeError:
            log.exception("boom")
    finally:
        for handler in list(logging.getLogger().handlers):
            if isinstance(handler, logging.handlers.RotatingFileHandler):
                handler.close()
                logging.getLogger().removeHandler(handler)
    text = (tmp_path / "parley.log").read_text()
    assert key.hex() not in text
    assert base64.b64encode(key).decode() not in text
    assert "abcdefghijklmnop" not in text
    assert "600 111 222" not in text
    assert "lead_score" in text, "the useful part of the error survives"
    assert "Traceback" in text
    assert text.count("[redacted]") >= 5
