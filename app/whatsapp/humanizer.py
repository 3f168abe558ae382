"""Human-like pacing of outgoing messages: reading time, typing with per-key jitter, pauses and gaps.

WhatsApp bans numbers that behave like bots: instant replies, perfectly regular keystrokes, hundreds of messages
in a burst. Every delay here is drawn from a seeded ``random.Random``, so the same seed gives the same plan (tests
pin the distribution), and every knob is a setting with a safe default.

Text is typed grapheme by grapheme (a base character with its combining marks, an emoji with its modifiers and
joiners, a flag's pair of regional indicators), because that is what a person's keystroke produces and what the
browser must insert at once.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TypingPace(BaseModel):
    model_config = ConfigDict(frozen=True)

    chars_per_second_min: float = Field(3.0, gt=0)
    chars_per_second_max: float = Field(5.0, gt=0)
    key_jitter: float = Field(0.35, ge=0, le=1)  # relative spread of each keystroke's delay
    max_typing_seconds: float = Field(20.0, gt=0)  # long messages are typed faster rather than for minutes
    pause_chance: float = Field(0.03, ge=0, le=1)  # per grapheme, after a space or punctuation
    pause_seconds_min: float = Field(0.4, ge=0)
    pause_seconds_max: float = Field(1.6, ge=0)
    read_base_seconds: float = Field(1.2, ge=0)
    read_seconds_per_char: float = Field(0.035, ge=0)
    read_max_seconds: float = Field(12.0, ge=0)
    gap_seconds_min: float = Field(30.0, ge=0)  # between messages to different contacts in bulk work
    gap_seconds_max: float = Field(60.0, ge=0)

    @model_validator(mode="after")
    def _ranges(self) -> TypingPace:
        if self.chars_per_second_min > self.chars_per_second_max:
            raise ValueError("typing speed: the minimum is above the maximum")
        if self.pause_seconds_min > self.pause_seconds_max or self.gap_seconds_min > self.gap_seconds_max:
            raise ValueError("a minimum is above its maximum")
        return self


@dataclass(frozen=True)
class Keystroke:
    text: str  # one grapheme
    delay: float  # seconds to wait before typing it


@dataclass(frozen=True)
class TypingPlan:
    keystrokes: tuple[Keystroke, ...]

    @property
    def seconds(self) -> float:
        return sum(k.delay for k in self.keystrokes)

    @property
    def text(self) -> str:
        return "".join(k.text for k in self.keystrokes)


_ZWJ = "\u200d"


def _joins_previous(ch: str) -> bool:
    code = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
    )


def graphemes(text: str) -> list[str]:
    """Split into user-perceived characters (an approximation of UAX #29 good enough for typing)."""
    out: list[str] = []
    for ch in text:
        regional = 0x1F1E6 <= ord(ch) <= 0x1F1FF
        if out and (
            _joins_previous(ch)
            or out[-1].endswith(_ZWJ)
            or ch == _ZWJ
            or (regional and len(out[-1]) == 1 and 0x1F1E6 <= ord(out[-1]) <= 0x1F1FF)
        ):
            out[-1] += ch
        else:
            out.append(ch)
    return out


class Humanizer:
    def __init__(self, settings: TypingPace | None = None, rng: random.Random | None = None) -> None:
        self.settings = settings or TypingPace()
        self.rng = rng or random.Random()

    def reading_seconds(self, incoming: str) -> float:
        """How long a person takes to read ``incoming`` before starting to answer."""
        s = self.settings
        base = s.read_base_seconds + s.read_seconds_per_char * len(incoming)
        return min(s.read_max_seconds, base * self.rng.uniform(0.8, 1.25))

    def typing_plan(self, text: str) -> TypingPlan:
        """Delays before each grapheme: a per-message speed, per-key jitter, a few pauses, capped in total."""
        s = self.settings
        units = graphemes(text)
        if not units:
            return TypingPlan(())
        speed = self.rng.uniform(s.chars_per_second_min, s.chars_per_second_max)
        mean = 1.0 / speed
        delays = [max(0.03, self.rng.gauss(mean, mean * s.key_jitter)) for _ in units]
        # Keep each key's jitter but make the message's pace exactly the speed drawn for it, so the realised
        # speed stays inside the settings however short the message is.
        scale = len(units) * mean / sum(delays)
        delays = [d * scale for d in delays]
        for i in range(1, len(units)):
            if units[i - 1] in (" ", ",", ".", "!", "?", "\n") and self.rng.random() < s.pause_chance:
                delays[i] += self.rng.uniform(s.pause_seconds_min, s.pause_seconds_max)
        total = sum(delays)
        if total > s.max_typing_seconds:
            factor = s.max_typing_seconds / total
            delays = [d * factor for d in delays]
        return TypingPlan(tuple(Keystroke(u, d) for u, d in zip(units, delays, strict=True)))

    def gap_seconds(self) -> float:
        """The wait before messaging the next contact in bulk work (campaigns, agent follow-ups)."""
        return self.rng.uniform(self.settings.gap_seconds_min, self.settings.gap_seconds_max)
