"""The process harness itself (tests/support/testprocess.py): deadlines hold when the program is silent, an exit is
noticed at once, and unexpected errors or tracebacks fail the test at teardown unless waited for or allowed."""

from __future__ import annotations

import sys
import textwrap

import pytest

from tests.support.testprocess import Process, ProcessExited

LOGS = textwrap.dedent(
    """
    import sys
    print("2026-12-07 10:00:00,001 INFO app.startup: ready", file=sys.stderr, flush=True)
    print("2026-12-07 10:00:00,002 ERROR app.sync: the server said no", file=sys.stderr, flush=True)
    print("2026-12-07 10:00:00,003 ERROR app.ai: provider down", file=sys.stderr, flush=True)
    print("Traceback (most recent call last):", file=sys.stderr)
    print('  File "x.py", line 1, in <module>', file=sys.stderr)
    print("RuntimeError: boom", file=sys.stderr, flush=True)
    print("2026-12-07 10:00:00,004 WARNING app.ui: slow paint", file=sys.stderr, flush=True)
    print("plain output", flush=True)
    """
)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.mark.timeout(60)  # the old harness read the pipe in the test's thread and hung here until pytest's timeout
def test_the_deadline_holds_when_the_program_prints_nothing() -> None:
    proc = Process(python("import time; time.sleep(120)"), name="silent").start()
    try:
        with pytest.raises(AssertionError, match=r"silent printed no line matching 'never' within 0.5 s") as failed:
            proc.wait_for("never", timeout=0.5)
        assert not isinstance(failed.value, ProcessExited)
    finally:
        proc.stop()


def test_an_exit_ends_the_wait_at_once_with_what_the_program_said() -> None:
    proc = Process(python("print('hello from the child')"), name="short").start()
    try:
        with pytest.raises(ProcessExited, match="hello from the child"):
            proc.wait_for("never", timeout=600)
    finally:
        proc.stop()


def test_errors_and_tracebacks_are_unexpected_unless_waited_for_or_allowed() -> None:
    proc = Process(python(LOGS), name="logger").start()
    try:
        proc.wait_for("plain output")
        assert proc.wait_exit(30) == 0
    finally:
        proc.stop()
    unexpected = [record.head.text for record in proc.unexpected()]
    assert unexpected == [
        "2026-12-07 10:00:00,002 ERROR app.sync: the server said no",
        "2026-12-07 10:00:00,003 ERROR app.ai: provider down",
    ]
    with pytest.raises(AssertionError, match=r"(?s)2 unexpected error\(s\).*RuntimeError: boom"):
        proc.check()
    proc.wait_for("the server said no", level="ERROR")  # waited for: expected
    proc.allow(r"RuntimeError: boom")  # matched in the traceback under the record: the whole record is allowed
    assert proc.unexpected() == []
    proc.check()


def test_a_stray_traceback_fails_even_without_a_log_line() -> None:
    proc = Process(python("raise SystemExit(__import__('nope_no_such_module'))"), name="crash").start()
    proc.wait_exit(30)
    assert [r.head.text for r in proc.unexpected()] == ["Traceback (most recent call last):"]


def test_the_fixture_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["tests.support.testprocess"]')
    pytester.makepyfile(
        f"""
        import sys
        from tests.support.testprocess import Process

        CODE = {LOGS!r}

        def test_logs(processes):
            proc = processes.start(Process([sys.executable, "-c", CODE], name="child"))
            proc.wait_for("plain output")

        def test_logs_allowed(processes):
            proc = processes.start(Process([sys.executable, "-c", CODE], name="child", allow=["server said no"]))
            proc.wait_for("plain output")
            proc.allow("provider down")
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_logs*", "*child logged 2 unexpected error(s)*"])
