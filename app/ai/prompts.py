"""Prompt templates from ``resources/prompts/``: loading, checking and rendering.

A template is a Markdown file with a ``# system`` and a ``# user`` section and ``{{name}}`` placeholders. Values
are substituted once, never re-parsed, so a customer's message containing ``{{x}}`` or a ``$`` stays as typed.
A placeholder without a value (or a value without a placeholder) raises, so a renamed field fails the tests instead
of silently sending a prompt with a hole in it. Templates are read once per process and kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from app.ai.types import ChatMessage
from app.resources import resource

TemplateName = Literal["suggest", "rewrite", "summarize", "analyze"]

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
_SECTION = re.compile(r"^# (system|user)\s*$", re.MULTILINE)


class TemplateError(ValueError):
    """A template file is missing a section, or a render was given the wrong fields."""


@dataclass(frozen=True)
class Template:
    name: str
    system: str
    user: str

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(_PLACEHOLDER.findall(self.system) + _PLACEHOLDER.findall(self.user))

    def render(self, values: dict[str, str]) -> list[ChatMessage]:
        missing = self.fields - values.keys()
        extra = values.keys() - self.fields
        if missing or extra:
            raise TemplateError(f"template {self.name}: missing {sorted(missing)}, unexpected {sorted(extra)}")

        def fill(text: str) -> str:
            return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text).strip()

        system, user = fill(self.system), fill(self.user)
        return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]


def parse(name: str, text: str) -> Template:
    parts = _SECTION.split(text)
    # parts: [preamble, "system", body, "user", body]
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    if set(sections) != {"system", "user"}:
        raise TemplateError(f"template {name}: needs exactly a '# system' and a '# user' section")
    return Template(name, sections["system"], sections["user"])


@cache
def load(name: TemplateName) -> Template:
    path = resource("prompts", f"{name}.md")
    return parse(name, path.read_text(encoding="utf-8"))
