"""The browser's ballot code (council/static/js/vote.js) under node, and with the Python side.

`node --test tests/ballots/js/` holds the JavaScript tests: the known-answer vectors and
property loops. Here pytest runs them, then checks that the two implementations accept
each other's ballots: a ballot made in JavaScript verifies in Python, one made in Python
verifies in JavaScript, both give the same tracking code, and a ballot copied to another
alias fails on both sides.

node is Debian's `nodejs` (`scripts/bootstrap.sh test` installs it); set COUNCIL_NODE to use
another binary. Without node these tests skip, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.ballots.support import load_vectors

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "tests" / "ballots" / "js"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
NODE = os.environ.get("COUNCIL_NODE") or shutil.which("node") or shutil.which("nodejs")

QUESTIONS: list[dict[str, Any]] = [
    {
        "text": "是否同意加装电梯?",
        "options": ["赞成", "反对", "弃权"],
        "min": 1,
        "max": 1,
        "costs": None,
        "budget": None,
    },
    {"text": "选出两项", "options": ["A", "B", "C", "D"], "min": 0, "max": 2, "costs": None, "budget": None},
    {
        "text": "预算",
        "options": ["路灯", "座椅", "绿化"],
        "min": 0,
        "max": 3,
        "costs": [40, 25, 30],
        "budget": 60,
    },
]
SELECTIONS = [[0, 0, 1], [1, 0, 0, 1], [0, 1, 1]]


def node() -> str:
    if NODE is None:
        if IN_CI:
            pytest.fail("node is not installed (CI=true): run scripts/bootstrap.sh test")
        pytest.skip("node is not installed: run scripts/bootstrap.sh test (Debian package nodejs)")
    return NODE


def run_node(*args: str, stdin: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node(), *args], cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_node_suite_passes() -> None:
    done = run_node("--test", "tests/ballots/js/")
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-6000:]
    assert "# fail 0" in done.stdout, report[-6000:]


def make_ballot_js(public_key: str, fingerprint: str, alias: str) -> dict[str, Any]:
    request = {
        "public_key": public_key,
        "fingerprint": fingerprint,
        "alias": alias,
        "questions": QUESTIONS,
        "selections": SELECTIONS,
    }
    done = run_node(str(JS / "make_ballot.mjs"), stdin=json.dumps(request))
    assert done.returncode == 0, done.stderr
    made: dict[str, Any] = json.loads(done.stdout)
    return made


def verify_ballot_js(
    public_key: str, fingerprint: str, ballot: dict[str, Any], reveal: Any = None
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "public_key": public_key,
        "fingerprint": fingerprint,
        "questions": QUESTIONS,
        "ballot": ballot,
    }
    if reveal is not None:
        request["reveal"] = reveal
    done = run_node(str(JS / "verify_ballot.mjs"), stdin=json.dumps(request, ensure_ascii=False))
    assert done.returncode in (0, 1), done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert (done.returncode == 0) == result["ok"]
    return result


def python_api() -> Any:
    """council.ballots.encrypt when it offers what this test needs, else a skip saying why."""
    try:
        from council.ballots import encrypt
    except ImportError as error:
        pytest.skip(f"the Python ballot API is not there yet (council.ballots.encrypt: {error})")
    needed = (
        "QuestionShape",
        "encrypt_ballot",
        "verify_ballot",
        "answers_from_json",
        "answers_to_json",
        "tracking_code",
        "check_reveal",
        "Reveal",
    )
    missing = [name for name in needed if not hasattr(encrypt, name)]
    if missing:
        pytest.skip(f"council.ballots.encrypt lacks {', '.join(missing)} (not written yet?)")
    return encrypt


def test_js_and_python_accept_each_other_s_ballots() -> None:
    vectors = load_vectors()
    public_key_hex = vectors["trustees"]["public_key"]
    fingerprint_hex = vectors["ballot"]["F"]
    alias = "3-2-1101"

    # JavaScript makes a ballot; JavaScript itself accepts it.
    made = make_ballot_js(public_key_hex, fingerprint_hex, alias)
    ballot = {"alias": made["alias"], "answers": made["answers"]}
    assert [r["m"] for r in made["reveal"]] == SELECTIONS
    mine = verify_ballot_js(public_key_hex, fingerprint_hex, ballot, made["reveal"])
    assert mine == {"ok": True, "tracking_code": made["tracking_code"]}

    encrypt = python_api()
    from council.ballots.checks import CheckFailed
    from council.ballots.group import Point

    public_key = Point.from_hex(public_key_hex, allow_identity=False)
    fingerprint = bytes.fromhex(fingerprint_hex)
    shapes = [encrypt.QuestionShape.from_json(q) for q in QUESTIONS]

    # Python verifies the JavaScript ballot, its reveal, and computes the same tracking code.
    answers = encrypt.answers_from_json(made["answers"])
    encrypt.verify_ballot(fingerprint, alias, shapes, public_key, answers)
    for q, (answer, reveal) in enumerate(zip(answers, made["reveal"], strict=True)):
        encrypt.check_reveal(q, public_key, answer, encrypt.Reveal.from_json(reveal, f"reveal[{q}]"))
    assert encrypt.tracking_code(alias, answers) == made["tracking_code"]
    assert encrypt.answers_to_json(answers) == made["answers"]
    with pytest.raises(CheckFailed) as failed:
        encrypt.verify_ballot(fingerprint, "3-2-1102", shapes, public_key, answers)
    assert failed.value.check == "range"

    # Python makes a ballot; JavaScript verifies it (and its reveal) with the same tracking code.
    py_answers, py_reveals = encrypt.encrypt_ballot(fingerprint, alias, shapes, public_key, SELECTIONS)
    py_ballot = {"alias": alias, "answers": encrypt.answers_to_json(py_answers)}
    result = verify_ballot_js(
        public_key_hex, fingerprint_hex, py_ballot, [reveal.to_json() for reveal in py_reveals]
    )
    assert result == {"ok": True, "tracking_code": encrypt.tracking_code(alias, py_answers)}

    # A Python ballot copied to another alias fails in JavaScript, naming the failed check.
    copied = verify_ballot_js(public_key_hex, fingerprint_hex, {**py_ballot, "alias": "3-2-1102"})
    assert copied["ok"] is False
    assert copied["check"] == "range"
