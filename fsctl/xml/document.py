"""The FreeSWITCH XML document frame and its "not found" answer."""

from __future__ import annotations

from lxml import etree

# mod_xml_curl treats this exact shape as "not found" and quietly falls back to the static XML
# (src/mod/xml_int/mod_xml_curl/mod_xml_curl.c; captured in fixtures/xml_curl/responses/not-found.xml).
NOT_FOUND = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    b'<document type="freeswitch/xml">\n'
    b'  <section name="result">\n'
    b'    <result status="not found"/>\n'
    b"  </section>\n"
    b"</document>\n"
)


def new_document(section: str) -> tuple[etree._Element, etree._Element]:
    """A `<document type="freeswitch/xml">` with one `<section name=...>`; returns (document, section)."""
    document = etree.Element("document", type="freeswitch/xml")
    return document, etree.SubElement(document, "section", name=section)


def to_bytes(document: etree._Element) -> bytes:
    """Serialise as UTF-8 with a declaration (FreeSWITCH reads UTF-8 names as they are)."""
    return etree.tostring(document, encoding="UTF-8", xml_declaration=True)


def add_pairs(parent: etree._Element, container: str, item: str, pairs: list[tuple[str, str]]) -> None:
    """`<params><param name= value=/></params>` and the like; lxml escapes every value."""
    if not pairs:
        return
    holder = etree.SubElement(parent, container)
    for name, value in pairs:
        etree.SubElement(holder, item, name=name, value=value)
