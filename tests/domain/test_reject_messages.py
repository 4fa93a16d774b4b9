"""A reject's message is a code and its parameters; its English text is rendered from them."""

from __future__ import annotations

import re

from impex.domain.rejects import MESSAGES, Reason, render, said, text


def test_every_message_is_about_a_line_and_renders_with_its_parameters():
    for code, template in MESSAGES.items():
        params = {name: "7" for name in re.findall(r"{(\w+)", template)}
        assert "{" not in render(code, params), code
        assert text(code, {**params, "line": 3}).startswith("line 3: "), code


def test_a_reject_said_by_code_keeps_its_english_message_code_and_parameters():
    params = {"line": 4, "column": "age", "value": "forty"}
    reject = said(3, 4, b"4,Di,forty", Reason.TYPE_ERROR, "age", "forty", "type_error.integer", params)
    assert reject.message == "line 4: column age: 'forty' is not an integer"
    assert (reject.code, reject.params) == ("type_error.integer", params)


def test_key_columns_are_named_together():
    params = {"line": 2, "key": ["a", "b", "c"], "value": "1|x|y"}
    assert text("double", params) == "line 2: key a and b and c = 1|x|y appears earlier in the file"


def test_the_databases_own_words_are_kept_as_they_are():
    params = {"line": 9, "error": "CHECK constraint failed: age >= 0"}
    assert text("constraint", params) == "line 9: refused by the database: CHECK constraint failed: age >= 0"


def test_an_unknown_code_still_shows_its_parameters():
    assert render("from_the_future", {"x": 1}) == "from_the_future {'x': 1}"
