"""Rewrite ja/LC_MESSAGES/messages.po from ja_source.JA (run: python -m webpanel.translations)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from webpanel.translations.ja_source import JA


def main() -> None:
    catalog = Catalog(locale="ja", project="kumo webpanel", charset="utf-8", fuzzy=False)
    for msgid, msgstr in JA.items():
        catalog.add(msgid, msgstr)
    target = Path(__file__).resolve().parent / "ja" / "LC_MESSAGES" / "messages.po"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        write_po(handle, catalog, omit_header=False, width=0, no_location=True)
    print(f"wrote {target} ({len(JA)} messages)")


if __name__ == "__main__":
    main()
