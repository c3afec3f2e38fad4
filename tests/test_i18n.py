"""Translations: every marked string has a Chinese translation that keeps its placeholders.

The messages are extracted afresh from the source (with babel.cfg, as `make messages`
does), so a string marked for translation but not yet translated in
council/locale/zh_Hans/LC_MESSAGES/messages.po fails here, naming the string.

No database is needed: these tests use no fixtures from conftest.py.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from council import i18n

ROOT = Path(__file__).resolve().parent.parent
BABEL_CFG = ROOT / "babel.cfg"
LOCALE_DIR = ROOT / "council" / "locale"
ZH_PO = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "messages.po"
EN_PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po"
REFRESH_HINT = "run `make messages`, then translate in council/locale/zh_Hans/LC_MESSAGES/messages.po"


MethodMap = tuple[list[tuple[str, str]], dict[str, dict[str, object]]]


def _method_map() -> MethodMap:
    """babel.cfg parsed as `pybabel extract -F babel.cfg` parses it."""
    from babel.messages import frontend

    parse = getattr(frontend, "parse_mapping_cfg", None) or frontend.parse_mapping
    with BABEL_CFG.open(encoding="utf-8") as handle:
        mapping: MethodMap = parse(handle, str(BABEL_CFG))
    return mapping


def _msgid(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The messages in the source now, through a temporary .pot like `pybabel extract -k N_`."""
    method_map, options_map = _method_map()
    catalog = Catalog(project="council")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords={**DEFAULT_KEYWORDS, "N_": None},
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    with pot.open("wb") as handle:
        write_po(handle, catalog, omit_header=True)
    return _read(pot)


@pytest.fixture(scope="module")
def zh() -> Catalog:
    return _read(ZH_PO, "zh_Hans")


def _messages(catalog: Catalog) -> Iterator[Message]:
    return (m for m in catalog if m.id)


def _strings(message: Message) -> list[str]:
    if isinstance(message.string, str):
        return [message.string]
    return list(message.string or ())


def _placeholders(text: str) -> list[str]:
    """The {names} of a str.format template, sorted, with repeats."""
    try:
        return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)
    except ValueError as exc:  # unbalanced braces
        return [f"<not a valid format string: {exc}>"]


def test_extraction_finds_strings_in_code_and_templates(extracted: Catalog) -> None:
    ids = {_msgid(m) for m in _messages(extracted)}
    # From Python code (N_ and gettext) and from templates (_ with .format after it).
    assert "Wrong username or password." in ids
    assert "Some fields are not valid" in ids
    assert "Log in" in ids
    assert "{n} residents" in ids
    assert len(ids) > 100


def test_every_extracted_message_has_a_chinese_translation(extracted: Catalog, zh: Catalog) -> None:
    not_in_catalogue: list[str] = []
    untranslated: list[str] = []
    fuzzy: list[str] = []
    for message in _messages(extracted):
        entry = zh.get(message.id, message.context)
        if entry is None:
            not_in_catalogue.append(_msgid(message))
        elif entry.fuzzy:
            fuzzy.append(_msgid(message))  # fuzzy entries are not used at run time
        elif not all(s.strip() for s in _strings(entry)):
            untranslated.append(_msgid(message))
    problems = []
    if not_in_catalogue:
        problems.append("not in the zh_Hans catalogue:\n  " + "\n  ".join(map(repr, not_in_catalogue)))
    if untranslated:
        problems.append("without a zh_Hans translation:\n  " + "\n  ".join(map(repr, untranslated)))
    if fuzzy:
        problems.append("marked fuzzy in zh_Hans:\n  " + "\n  ".join(map(repr, fuzzy)))
    assert not problems, f"{REFRESH_HINT}.\n" + "\n".join(problems)


@pytest.mark.parametrize("path", [ZH_PO, EN_PO], ids=["zh_Hans", "en"])
def test_translations_keep_the_placeholders_of_their_msgid(path: Path) -> None:
    catalog = _read(path)
    wrong: list[str] = []
    for message in _messages(catalog):
        expected = _placeholders(_msgid(message))
        for translation in _strings(message):
            if translation and _placeholders(translation) != expected:
                wrong.append(
                    f"{_msgid(message)!r} -> {translation!r}: "
                    f"has {_placeholders(translation)}, needs {expected}"
                )
    assert not wrong, f"placeholders differ in {path.relative_to(ROOT)}:\n  " + "\n  ".join(wrong)


def test_chinese_catalogue_has_no_fuzzy_or_obsolete_entries(zh: Catalog) -> None:
    assert not [_msgid(m) for m in _messages(zh) if m.fuzzy]
    assert not zh.obsolete, f"obsolete entries: {list(zh.obsolete)}; {REFRESH_HINT}"


@pytest.fixture
def use_locale() -> Iterator[Callable[[str], None]]:
    """Sets i18n.current_locale for the test, as the locale middleware does per request."""
    tokens = []

    def use(code: str) -> None:
        tokens.append(i18n.current_locale.set(code))

    yield use
    for token in reversed(tokens):
        i18n.current_locale.reset(token)


def test_gettext_follows_the_current_locale(use_locale: Callable[[str], None]) -> None:
    assert i18n.current_locale.get() == i18n.DEFAULT_LOCALE == "zh_Hans"
    assert i18n.gettext("Log in") == "登录"
    assert i18n.gettext("Resident council") == "居民议事会"
    assert i18n.gettext("{n} residents").format(n=3) == "3 位居民"
    use_locale("en")
    assert i18n.gettext("Log in") == "Log in"
    assert i18n.gettext("{n} residents").format(n=3) == "3 residents"
    use_locale("zh_Hans")
    assert i18n.gettext("Log in") == "登录"


def test_unknown_message_falls_back_to_the_english_msgid(use_locale: Callable[[str], None]) -> None:
    use_locale("zh_Hans")
    assert i18n.gettext("A message nobody marked") == "A message nobody marked"


def test_no_bare_percent_sign_in_any_message(zh: Catalog) -> None:
    """Jinja's new-style gettext %-formats every message: a lone % breaks the page."""
    bad = [text for message in _messages(zh) for text in _strings(message) if "%" in text.replace("%%", "")]
    assert bad == []
