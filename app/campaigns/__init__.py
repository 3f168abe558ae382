"""Campaigns (issue 19): one message, in several variants, to a frozen audience, sent one recipient at a time.

- ``lifecycle``: the state machine (draft → prepared → running ⇄ paused → completed | cancelled) and its sentences;
- ``audience``: filters → a live count (one SQL query) and the frozen audience with exclusions and reasons;
- ``content``: templates, variables and variants (rotated per campaign), near-identical bodies flagged;
- ``optout``: the one opt-out rule (an exact keyword, per language) shared with the retention agent;
- ``runner``: the shared job (``needs_whatsapp``) that queues the next recipient just in time;
- ``results``: replies and sales attributed within windows, the funnel and the per-recipient list.

Every write is an operation in ``app.store.ops.campaigns``; the UI reads through the functions here.
"""
