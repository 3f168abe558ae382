"""The WhatsApp tests' names for the imitation: ``server`` and ``control`` (the fixtures and helpers are in
``tests/support/whatsapp_fixtures.py``; import helpers from there)."""

from __future__ import annotations

import pytest

from tests.whatsapp.imitation_server import ImitationControl, ImitationServer


@pytest.fixture
def server(imitation_server: ImitationServer) -> ImitationServer:
    return imitation_server


@pytest.fixture
def control(imitation_control: ImitationControl) -> ImitationControl:
    return imitation_control
