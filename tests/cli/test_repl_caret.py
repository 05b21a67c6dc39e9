"""Where ``vm-system repl`` draws a SyntaxError's caret (the runtime's ``line``/``column``)."""

from __future__ import annotations

from vmsystem.cli.repl import syntax_caret


def error(line: object, column: object, name: str = "SyntaxError") -> dict[str, object]:
    return {"name": name, "message": "Unexpected token", "line": line, "column": column}


def test_the_caret_is_under_the_column_of_the_line_it_names() -> None:
    assert syntax_caret(error(1, 9), "let x = ;") == "let x = ;\n        ^\n"
    code = "const a = 1;\nconst b = {a: 1,, }"
    assert syntax_caret(error(2, 17), code) == "const b = {a: 1,, }\n                ^\n"


def test_tabs_before_the_column_stay_tabs() -> None:
    assert syntax_caret(error(1, 3), "\t\t)") == "\t\t)\n\t\t^\n"


def test_a_caret_after_the_last_character_marks_the_end_of_input() -> None:
    assert syntax_caret(error(1, 5), "f(1,") == "f(1,\n    ^\n"


def test_no_caret_without_a_location_inside_the_input() -> None:
    assert syntax_caret(error(3, 1), "one line") is None
    assert syntax_caret(error(1, 40), "short") is None
    assert syntax_caret(error(None, None), "x") is None
    assert syntax_caret({"name": "SyntaxError", "message": "m"}, "x") is None
    assert syntax_caret(error(1, 1, name="TypeError"), "x") is None
