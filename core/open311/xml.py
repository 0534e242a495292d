"""The XML form of every Open311 answer, built with ElementTree (never by joining strings).

The JSON form is a list of objects (or one object for discovery and a service
definition); the XML form wraps the list in the specification's root element
and names each item, and nested lists name their items the same way
(``attributes/attribute``, ``values/value``, ``endpoints/endpoint``, ``formats/format``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from xml.etree.ElementTree import Element, SubElement, tostring

#: The element of one item in each list the specification nests.
ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}
#: Characters XML 1.0 cannot carry at all (a resident's text may hold them); they are dropped.
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(value))


def _fill(element: Element, value: object) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _fill(SubElement(element, str(key)), child)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        item = ITEMS.get(element.tag, "item")
        for child in value:
            _fill(SubElement(element, item), child)
    else:
        element.text = _text(value)


def render(root: str, value: object, item: str | None = None) -> bytes:
    """``<root>`` holding ``value``; a top-level list names its items ``item``. UTF-8, with the declaration."""
    element = Element(root)
    if item is not None and isinstance(value, Sequence) and not isinstance(value, str):
        for child in value:
            _fill(SubElement(element, item), child)
    else:
        _fill(element, value)
    return tostring(element, encoding="utf-8", xml_declaration=True)
