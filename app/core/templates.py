"""Filling ``{variables}`` in quick replies and campaign templates.

Unknown variables are left as written (a typo shows up in the draft instead of silently vanishing), and
``{{`` / ``}}`` stay literal braces.
"""

from __future__ import annotations

import re

_VAR = re.compile(r"\{\{|\}\}|\{([a-z_][a-z0-9_]*)\}")


def render(template: str, variables: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        return variables.get(name, token)

    return _VAR.sub(replace, template)


def contact_variables(name: str, phone: str | None, business: str) -> dict[str, str]:
    first = name.split()[0] if name.strip() else ""
    return {"name": name, "first_name": first, "phone": phone or "", "business": business}
