"""pytest plugin: the random-order seed is printed at the end of the run too (pytest-randomly prints it in the
header, which ``-q`` hides and a long CI log scrolls away), so a failure that depends on order can be replayed with
``--randomly-seed=N`` (``-p no:randomly`` runs in file order)."""

from __future__ import annotations

import pytest
from _pytest.terminal import TerminalReporter


def pytest_terminal_summary(terminalreporter: TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    seed = getattr(config.option, "randomly_seed", None)
    if config.pluginmanager.hasplugin("randomly") and isinstance(seed, int):
        terminalreporter.write_line(f"tests ran in random order; replay it with --randomly-seed={seed}")
