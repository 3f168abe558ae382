"""A sentence written for people is raised as a ``ParleyError`` (``InvalidInput`` for a refused value), never as a
bare ``ValueError``: ``describe`` shows a bare one as "Something went wrong" (the loaded suite caught "Give the text
a title." shown that way). An AST scan of app/: a ``raise ValueError/RuntimeError/Exception("<Capitalised
sentence.>")`` is a person's sentence in the wrong type."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
GENERIC = {"ValueError", "RuntimeError", "Exception", "TypeError", "OSError"}


def _sentence(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        text = str(node.values[0].value) + "…"
        last = node.values[-1]
        text = text + (str(last.value) if isinstance(last, ast.Constant) else "")
    else:
        return None
    return text if text[:1].isupper() and text.rstrip().endswith((".", "?")) else None


def offenders(source: str, name: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename=name)):
        if not isinstance(node, ast.Raise) or not isinstance(node.exc, ast.Call):
            continue
        func = node.exc.func
        if isinstance(func, ast.Name) and func.id in GENERIC and node.exc.args:
            sentence = _sentence(node.exc.args[0])
            if sentence is not None:
                found.append(f"{name}:{node.lineno}: {func.id}({sentence!r})")
    return found


def test_sentences_for_people_are_parley_errors() -> None:
    found = [o for path in sorted(APP.rglob("*.py")) for o in offenders(path.read_text("utf-8"), str(path))]
    assert found == []


def test_the_scan_sees_a_sentence_in_a_generic_error() -> None:
    sample = 'raise ValueError("Give the text a title.")\nraise ValueError(f"unknown table {t!r}")\n'
    assert offenders(sample, "x.py") == ["x.py:1: ValueError('Give the text a title.')"]


def class_names_in_sentences(source: str, name: str) -> list[str]:
    """Raises whose message shows an exception's class name (``type(exc).__name__``, ``exc.__class__.__name__``):
    "Could not save to the keyring (RuntimeError)." tells a person nothing; the name belongs in the log."""
    found = []
    for node in ast.walk(ast.parse(source, filename=name)):
        if not isinstance(node, ast.Raise) or not isinstance(node.exc, ast.Call):
            continue
        for arg in [*node.exc.args, *(k.value for k in node.exc.keywords)]:
            for part in ast.walk(arg):
                if isinstance(part, ast.Attribute) and part.attr == "__name__":
                    found.append(f"{name}:{node.lineno}")
    return found


def test_no_sentence_for_people_names_an_exception_class() -> None:
    found = [
        o for path in sorted(APP.rglob("*.py")) for o in class_names_in_sentences(path.read_text("utf-8"), str(path))
    ]
    assert found == []


def test_the_scan_sees_a_class_name_in_a_sentence() -> None:
    sample = (
        'raise KeyringUnavailable(f"Could not save ({type(exc).__name__}).")\n'
        'raise InvalidInput(f"{label}: not valid", hint=f"{exc.__class__.__name__}")\n'
        'raise InvalidInput(f"{label}: not valid")\n'
    )
    assert class_names_in_sentences(sample, "x.py") == ["x.py:1", "x.py:2"]
