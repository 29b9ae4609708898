"""Text at the edge of the domain, and text on its way out.

Every text that enters (admin forms, the operator API, the CLI, imports) goes through `clean`
once: NUL and the other C0/C1 control characters (tab and newline excepted in multi-line
fields), Unicode noncharacters and lone surrogates are refused with an error naming the field,
carriage returns are folded into newlines (browsers send CRLF from every textarea, and nobody
sees the difference), and the result is NFC. Refusing rather than stripping: an invisible
character is almost always a paste gone wrong, and the operator should see where.

Renderers (XML feeds, iCalendar, email, social text) pass what is already stored through
`printable`, which drops whatever `clean` would refuse, so a row written before these rules,
or by a path that forgot them, can never take a surface down.

The field limits live here too, so the forms, the API, the CLI and the OpenAPI schema agree.
"""

from __future__ import annotations

import re
import unicodedata

from statusboard.domain.errors import InvalidInput

# Longest accepted value per field, after normalisation.
INCIDENT_NAME = 200
MESSAGE_BODY = 20_000
COMPONENT_NAME = 120
COMPONENT_DESCRIPTION = 500
OPERATOR_NAME = 120
TOKEN_NAME = 80

# C0 controls but tab and newline, DEL, C1 controls, lone surrogates, and the noncharacters
# XML 1.0 forbids. Carriage returns are handled before this is applied.
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_FORBIDDEN_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _describe(char: str) -> str:
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return f"an unpaired surrogate (U+{code:04X})"
    if code == 0:
        return "a NUL character"
    if char in "\t\n":
        return "a line break or tab"
    return f"an invisible control character (U+{code:04X})"


def clean(
    value: str,
    *,
    field: str,
    max_length: int | None = None,
    one_line: bool = False,
    label: str | None = None,
) -> str:
    """The normalised text, or InvalidInput naming `field` and what is wrong with it."""
    what = label or field.replace("_", " ")
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    found = (_FORBIDDEN_ONE_LINE if one_line else _FORBIDDEN).search(text)
    if found:
        raise InvalidInput(
            f"the {what} contains {_describe(found.group())} at position {found.start() + 1}; "
            "remove it and send it again",
            field=field,
        )
    text = unicodedata.normalize("NFC", text)
    # The length as sent counts, as in the OpenAPI schema: normalising may shorten it.
    length = max(len(value), len(text))
    if max_length is not None and length > max_length:
        raise InvalidInput(
            f"the {what} is too long ({length} characters; at most {max_length})",
            field=field,
        )
    return text


def printable(value: str | None) -> str:
    """Stored text made safe for any renderer: what `clean` refuses is dropped."""
    if not value:
        return ""
    return _FORBIDDEN.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def printable_line(value: str | None) -> str:
    """`printable` for one-line places (titles, email subjects): breaks become spaces."""
    return " ".join(printable(value).replace("\t", " ").split("\n")).strip()


def has_forbidden(value: str) -> bool:
    """True when `value` holds something `clean` refuses even in multi-line text."""
    return _FORBIDDEN.search(value.replace("\r", "")) is not None
