"""The campaign's state machine: which moves exist, and the sentence a refused one gets.

draft → prepared (the audience is frozen: recipients written, exclusions with their reasons) → running ⇄ paused →
completed (no recipient left) or cancelled (for good, from any state before the end). A prepared campaign may go
back to draft to be edited (its frozen audience is dropped). Nothing leaves completed or cancelled.
"""

from __future__ import annotations

from typing import get_args

from app.core.errors import InvalidInput
from app.core.models import CampaignStatus, RecipientStatus

STATUSES: tuple[CampaignStatus, ...] = get_args(CampaignStatus)
RECIPIENT_STATUSES: tuple[RecipientStatus, ...] = get_args(RecipientStatus)
ENDED: frozenset[CampaignStatus] = frozenset({"completed", "cancelled"})

# the durable job that runs a campaign (app/campaigns/runner.py); its key names the campaign, the run and the step
STEP_KIND = "campaign_step"
AGENT = "campaign"  # ``messages.sent_by_agent`` of a campaign's messages

# recipient states on the way, and where they end
IN_FLIGHT: frozenset[RecipientStatus] = frozenset({"sending"})
LEFT: frozenset[RecipientStatus] = frozenset({"queued", "sending"})

TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    "draft": frozenset({"prepared", "cancelled"}),
    "prepared": frozenset({"draft", "running", "cancelled"}),
    "running": frozenset({"paused", "completed", "cancelled"}),
    "paused": frozenset({"running", "cancelled"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
}

_WHY: dict[tuple[CampaignStatus, CampaignStatus], str] = {
    ("draft", "running"): "Prepare it first: its audience is frozen when it is prepared, and only then can it start.",
    ("running", "prepared"): "It is running; pause or cancel it instead.",
    ("paused", "prepared"): "It has started already; resume or cancel it instead.",
    ("running", "running"): "It is running already.",
    ("paused", "paused"): "It is paused already.",
    ("draft", "paused"): "It has not started, so there is nothing to pause.",
    ("prepared", "paused"): "It has not started, so there is nothing to pause.",
    ("running", "draft"): "It has started; only a campaign that has not started can be edited.",
    ("paused", "draft"): "It has started; only a campaign that has not started can be edited.",
}


def can(current: CampaignStatus, target: CampaignStatus) -> bool:
    return target in TRANSITIONS[current]


def check(name: str, current: CampaignStatus, target: CampaignStatus) -> None:
    """Nothing when ``current`` → ``target`` is a move the machine has; else InvalidInput with a sentence."""
    if can(current, target):
        return
    if current in ENDED:
        raise InvalidInput(f"The campaign “{name}” is {current}; nothing more can happen to it.")
    why = _WHY.get((current, target), f"A {current} campaign cannot become {target}.")
    raise InvalidInput(f"The campaign “{name}” cannot be {_VERB[target]}. {why}")


_VERB: dict[CampaignStatus, str] = {
    "draft": "edited",
    "prepared": "prepared",
    "running": "started",
    "paused": "paused",
    "completed": "completed",
    "cancelled": "cancelled",
}


def step_key(campaign_id: str, run: str, step: int) -> str:
    """The dedupe key of one step of one run (a start or a resume) of a campaign: a step is scheduled once."""
    return f"campaign:{campaign_id}:{run}:{step}"
