"""The zh-Hans catalogues of the apps form ONE catalogue at run time.

Django merges every app's ``locale/<lang>/LC_MESSAGES/django.mo`` into one translation table (the app
listed first in ``INSTALLED_APPS`` wins), so when two apps translate the same msgid (with the same
context, usually none) differently, one app's word silently replaces the other's on every page — e.g.
the gateway's "Acknowledged" (frames acknowledged to devices, 已应答) once replaced the messages'
已确认. Same meaning: one word from ``docs/i18n-glossary.md``; different meaning: a ``msgctxt``.
Django's and the libraries' catalogues come before the project's apps in ``INSTALLED_APPS``, so
their words (注销 for "Log out", 过滤器 for "Filter") win too; the third test checks the merged result.

The ``.mo`` files are build products (compiled by the bootstrap, not committed); the second test checks
that the ones on disk say what their ``.po`` says, so the UI and the tests do not run on stale words.
"""

from __future__ import annotations

import gettext
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2]  # the `pingantong` package

needs_msgfmt = pytest.mark.skipif(
    shutil.which("msgfmt") is None, reason="msgfmt (GNU gettext) is not installed"
)

Key = str | tuple[str, int]


def _po_files() -> list[Path]:
    return sorted(PACKAGE.glob("*/locale/*/LC_MESSAGES/django.po")) + sorted(
        PACKAGE.glob("locale/*/LC_MESSAGES/django.po")
    )


def _catalogue_of_mo(path: Path) -> dict[Key, str]:
    with path.open("rb") as fp:
        catalogue: dict[Key, str] = gettext.GNUTranslations(fp)._catalog  # type: ignore[attr-defined]
    return {key: text for key, text in catalogue.items() if key != ""}  # "" is the header


def _compiled(po: Path, tmp_path: Path) -> dict[Key, str]:
    """The catalogue msgfmt makes of ``po`` (fuzzy entries left out, as compilemessages does)."""
    target = tmp_path / (po.relative_to(PACKAGE).as_posix().replace("/", "_") + ".mo")
    subprocess.run(["msgfmt", "--check-format", "-o", str(target), str(po)], check=True, capture_output=True)
    return _catalogue_of_mo(target)


def _readable(key: Key) -> str:
    msgid = key[0] if isinstance(key, tuple) else key
    context, _, text = msgid.rpartition("\x04")
    plural = f" [plural {key[1]}]" if isinstance(key, tuple) else ""
    return f"{text!r}{plural}" + (f" (context {context!r})" if context else "")


def _conflicts(catalogues: dict[str, dict[Key, str]]) -> list[str]:
    """Every key two catalogues (named by app) translate differently, with each app's word."""
    by_key: dict[Key, dict[str, str]] = defaultdict(dict)
    for app, catalogue in catalogues.items():
        for key, text in catalogue.items():
            by_key[key][app] = text
    return sorted(
        f"{_readable(key)}: " + ", ".join(f"{app} {text}" for app, text in sorted(words.items()))
        for key, words in by_key.items()
        if len(set(words.values())) > 1
    )


@needs_msgfmt
def test_no_msgid_is_translated_differently_by_two_apps(tmp_path):
    by_language: dict[str, dict[str, dict[Key, str]]] = defaultdict(dict)
    for po in _po_files():
        app = po.relative_to(PACKAGE).parts[0]
        by_language[po.parents[1].name][app] = _compiled(po, tmp_path)
    conflicts = [
        f"{language} {line}" for language, apps in sorted(by_language.items()) for line in _conflicts(apps)
    ]
    assert not conflicts, (
        "Two apps translate the same msgid differently; only one translation survives the merge. "
        "Harmonise on the glossary's word (docs/i18n-glossary.md) or give one use a context:\n"
        + "\n".join(conflicts)
    )


@needs_msgfmt
def test_every_compiled_catalogue_matches_its_po(tmp_path):
    stale = []
    for po in _po_files():
        mo = po.with_suffix(".mo")
        if not mo.exists():
            stale.append(f"{mo.relative_to(PACKAGE)} is missing")
        elif _catalogue_of_mo(mo) != _compiled(po, tmp_path):
            stale.append(f"{mo.relative_to(PACKAGE)} differs from its .po")
    assert not stale, "Run compilemessages (the bootstrap does):\n" + "\n".join(stale)


@needs_msgfmt
def test_the_check_reports_same_msgid_different_words_and_lets_contexts_apart(tmp_path):
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    messages = tmp_path / "messages.po"
    messages.write_text(header + 'msgid "Acknowledged"\nmsgstr "已确认"\n', encoding="utf-8")
    gateway_before = tmp_path / "gateway_before.po"
    gateway_before.write_text(header + 'msgid "Acknowledged"\nmsgstr "已应答"\n', encoding="utf-8")
    gateway_after = tmp_path / "gateway_after.po"
    gateway_after.write_text(
        header + 'msgctxt "frames acknowledged to devices"\nmsgid "Acknowledged"\nmsgstr "已应答"\n',
        encoding="utf-8",
    )
    compiled = {po.stem: _compiled_file(po) for po in (messages, gateway_before, gateway_after)}
    assert _conflicts({"notifications": compiled["messages"], "gateway": compiled["gateway_before"]}) == [
        "'Acknowledged': gateway 已应答, notifications 已确认"
    ]
    assert _conflicts({"notifications": compiled["messages"], "gateway": compiled["gateway_after"]}) == []
    assert _readable("frames acknowledged to devices\x04Acknowledged") == (
        "'Acknowledged' (context 'frames acknowledged to devices')"
    )


def _compiled_file(po: Path) -> dict[Key, str]:
    target = po.with_suffix(".mo")
    subprocess.run(["msgfmt", "-o", str(target), str(po)], check=True, capture_output=True)
    return _catalogue_of_mo(target)


def test_the_merged_catalogue_shows_every_apps_own_words():
    """What a zh-Hans page shows for an app's msgid is that app's word, not another app's, Django's
    or a library's (admin, auth, auditlog … are merged with precedence over the project's apps)."""
    from django.utils.translation import trans_real

    merged = trans_real.translation("zh-hans")._catalog
    replaced = []
    for mo in sorted(PACKAGE.glob("*/locale/zh_Hans/LC_MESSAGES/django.mo")):
        app = mo.relative_to(PACKAGE).parts[0]
        for key, text in _catalogue_of_mo(mo).items():
            shown = merged.get(key)
            if shown != text:
                replaced.append(f"{app} {_readable(key)}: {text} is shown as {shown}")
    assert not replaced, (
        "Another catalogue's word wins in the merged zh-Hans translation; harmonise on it or give "
        "the app's use a context:\n" + "\n".join(sorted(replaced))
    )
