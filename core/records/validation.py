"""Checks and normal forms for the codes, phones and dates in the three base tables.

Pure functions, no database: the API's input models and the ledger (台账)
import call the same ones, so a value accepted by one is accepted by the other
and stored in one form. Ledgers are typed on phones, pasted from chat apps and
round-tripped through Excel, so each parser first undoes what those do
(full-width digits, stray spaces, numbers turned into floats) and then says
precisely what is wrong, because the person fixing row 317 of a spreadsheet
needs more than "invalid value".

Every refusal is an :class:`~jiceng.core.errors.InvalidValue` carrying an
English msgid; pydantic keeps it and the import shows its texts per cell.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from jiceng.core.errors import InvalidValue
from jiceng.core.i18n import N_

__all__ = [
    "IdNumber",
    "InvalidValue",
    "check_id_against",
    "check_id_number",
    "id_gender",
    "mask_id_number",
    "mask_phone",
    "normalize",
    "parse_date",
    "parse_id_number",
    "parse_phone",
    "parse_uscc",
]

Gender = Literal["male", "female"]

REQUIRED = N_("This field is required.")
LOST_DIGITS = N_(
    "The number lost its digits in a spreadsheet (it reads {value}); format the column as text and enter the number again."
)

# Dashes that NFKC leaves alone but people (and input methods) type for "-".
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58", "-"))
_SCIENTIFIC = re.compile(
    r"\d+[.,]\d*E[+]?\d+|\d+E\+\d+", re.IGNORECASE
)  # a point or a plus: a credit code may end in E6
_WHOLE_FLOAT = re.compile(r"(\d+)\.0*")
# Doubles hold 15 significant digits for certain; Excel shows no more than that.
_EXACT_DIGITS = 15


def normalize(text: str) -> str:
    """The canonical text of a code, number or date as typed: what a person meant, not what their keyboard sent.

    Full-width characters (``１２３``, ``ｘ``, ``－``, the ideographic space)
    become ASCII by NFKC; other dashes become ``-``; invisible characters from
    copy and paste (zero-width space, BOM) go; and all whitespace goes, inside
    too, because codes are written in groups (``110105 19491231 002X``).
    Not for names or addresses, whose inner spaces matter.
    """
    if text.isascii():  # the usual case: NFKC and the dash and format-character rules cannot change ASCII
        return "".join(text.split())
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return "".join(text.split())


def _cell_text(value: object) -> str:
    """A code's text from whatever a client or spreadsheet cell holds, refusing numbers that lost digits.

    Excel keeps numbers as doubles with 15 significant digits, so an 18-digit
    code typed into a number cell comes back as ``5.00103199001011e+17`` or
    ``500103199001011000``: the last digits are gone and cannot be recovered,
    and the person has to know that rather than see "bad checksum".
    """
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 10**_EXACT_DIGITS:
            return str(int(value))
        if value.is_integer():
            raise InvalidValue(LOST_DIGITS, value=format(value, ".15g"))
        return repr(value)
    text = normalize(str(value))
    if _SCIENTIFIC.fullmatch(text):
        raise InvalidValue(LOST_DIGITS, value=text)
    whole = _WHOLE_FLOAT.fullmatch(text)  # "13812345678.0", as pandas writes a number column
    if whole:
        if len(whole.group(1)) > _EXACT_DIGITS:
            raise InvalidValue(LOST_DIGITS, value=text)
        return whole.group(1)
    return text


# --- Resident ID numbers (公民身份号码, GB 11643-1999) ---------------------------------------------------------

# Province-level codes (GB/T 2260): counties are not checked because records keep retired county codes for life.
PROVINCES = frozenset(
    (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55), *range(61, 66), 71, 81, 82, 83, 91)
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_LAST = frozenset("0123456789X")  # what an ID number's 18th character may be
_ODD = frozenset("13579")  # the 17th digit of a man's ID number
EARLIEST_BIRTH = date(1890, 1, 1)
#: a day certainly before today: a birth date before it cannot be in the future, so most numbers skip the clock
_SURELY_PAST = date.today() - timedelta(days=2)

ID_OLD = N_("This is an old 15-digit ID number; enter the 18-digit number from the current ID card.")
ID_CHAR = N_("An ID number is 17 digits followed by a digit or X; “{char}” at position {position} is not allowed.")
ID_LENGTH = N_("An ID number has 18 characters; this one has {length}.")
ID_PROVINCE = N_("The first two digits of an ID number are a province code; {code} is not one.")
ID_DATE = N_("The birth date in the ID number, {digits}, is not a real date.")
ID_FUTURE = N_("The birth date in the ID number, {date}, is in the future.")
ID_TOO_OLD = N_("The birth date in the ID number, {date}, is before 1890.")
ID_CHECKSUM = N_(
    "The last character of the ID number does not match the others; one of the characters was probably mistyped."
)
ID_BIRTH_MISMATCH = N_("The ID number gives the birth date {expected}, but the birth date entered is {given}.")
ID_MALE_MISMATCH = N_("The ID number belongs to a man, but the gender entered is female.")
ID_FEMALE_MISMATCH = N_("The ID number belongs to a woman, but the gender entered is male.")
GENDER_UNKNOWN = N_("The gender must be male or female, not “{value}”.")


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A checked ID number and what it says about its holder, so birth date and gender need not be typed twice."""

    number: str
    birth_date: date
    gender: Gender
    region: str  # the six-digit county code at first registration; may be retired


def id_check_char(first17: str) -> str:
    """The 18th character of an ID number (ISO 7064 MOD 11-2), which catches any single mistyped digit."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


# The weighted sum of an ID number, in three parts looked up rather than computed digit by digit: a ledger import
# checks a million numbers, and those share a few thousand region codes and birth dates and 1,000 sequence numbers.
# Regions and birth dates are kept as they are met, and only once checked: a region of a real province, a birth
# date that exists, after 1890 and surely in the past. A number whose parts are both kept needs no other check.
_ID_SEQUENCE_SUMS = {
    f"{n:03d}": sum(int(d) * w for d, w in zip(f"{n:03d}", _ID_WEIGHTS[14:], strict=True)) for n in range(1000)
}
_ID_REGION_SUMS: dict[str, int] = {}  # the first six digits → their weighted sum
_ID_BIRTHS: dict[str, tuple[date, int]] = {}  # digits 7–14 → the birth date and their weighted sum
_ID_KEPT = 65_536  # the most of each kept; all the days from 1890 to now are some 50,000


def parse_id_number(value: object, *, today: date | None = None) -> IdNumber:
    """Check a resident ID number and return it with the birth date, gender and region it encodes.

    Accepts what people type (lower-case ``x``, full-width digits, spaces) and
    refuses, each with its own reason: nothing; a number a spreadsheet turned
    into ``5.00103E+17``; an old 15-digit number; characters other than
    digits and a final X; the wrong length; an unknown province; a birth date
    that does not exist, is in the future or before 1890; a wrong check
    character. ``today`` is for tests.
    """
    text, born = check_id_number(value, today=today)
    return IdNumber(text, born, id_gender(text), text[:6])


def id_gender(number: str) -> Gender:
    """The gender a checked ID number gives: its 17th digit is odd for a man."""
    return "male" if number[16] in _ODD else "female"


def check_id_number(value: object, *, today: date | None = None) -> tuple[str, date]:
    """:func:`parse_id_number`'s checks, answering only the number and its birth date (gender is its 17th digit).

    For the ledger import, which checks a million numbers and needs no :class:`IdNumber` of each: the usual
    18 ASCII digits go straight to the table-driven checks, and a frozen dataclass costs more to build than
    the checks do.
    """
    if type(value) is str and len(value) == 18 and value.isascii() and value[:17].isdigit() and value[17] in _LAST:
        text = value  # the usual form, nothing to undo
    else:
        text = _cell_text(value).upper()
        if not text:
            raise InvalidValue(REQUIRED)
        if len(text) == 15 and text.isdigit():
            raise InvalidValue(ID_OLD)
        for position, char in enumerate(text, 1):
            if not (char.isascii() and char.isdigit()) and not (char == "X" and position in (18, len(text))):
                raise InvalidValue(ID_CHAR, char=char, position=position)
        if len(text) != 18:
            raise InvalidValue(ID_LENGTH, length=len(text))
    region_sum = _ID_REGION_SUMS.get(text[:6])
    birth = _ID_BIRTHS.get(text[6:14])
    if region_sum is None or birth is None or today is not None:
        region_sum, birth = _id_parts(text, today)
    born, birth_sum = birth
    if text[17] != _ID_CHECK[(region_sum + birth_sum + _ID_SEQUENCE_SUMS[text[14:17]]) % 11]:
        if text.endswith("000"):  # a number cell keeps 15 significant digits, so Excel writes the rest as 000
            raise InvalidValue(LOST_DIGITS, value=text)
        raise InvalidValue(ID_CHECKSUM)
    return text, born


def _id_parts(text: str, today: date | None) -> tuple[int, tuple[date, int]]:
    """Check the province and birth date of an 18-digit ID number; their weighted sums, kept for the numbers to come."""
    if int(text[:2]) not in PROVINCES:
        raise InvalidValue(ID_PROVINCE, code=text[:2])
    digits = text[6:14]
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise InvalidValue(ID_DATE, digits=digits) from None
    if (today is not None or born > _SURELY_PAST) and born > (today or date.today()):
        raise InvalidValue(ID_FUTURE, date=born.isoformat())
    if born < EARLIEST_BIRTH:
        raise InvalidValue(ID_TOO_OLD, date=born.isoformat())
    region_sum = sum(int(d) * w for d, w in zip(text[:6], _ID_WEIGHTS[:6], strict=True))
    birth = (born, sum(int(d) * w for d, w in zip(digits, _ID_WEIGHTS[6:14], strict=True)))
    for kept in (_ID_REGION_SUMS, _ID_BIRTHS):
        if len(kept) >= _ID_KEPT:
            kept.clear()
    _ID_REGION_SUMS[text[:6]] = region_sum
    if born <= _SURELY_PAST:
        _ID_BIRTHS[digits] = birth
    return region_sum, birth


_GENDERS: dict[str, Gender] = {
    "male": "male",
    "m": "male",
    "男": "male",
    "female": "female",
    "f": "female",
    "女": "female",
}


def check_id_against(id_number: IdNumber, birth_date: date | str | None, gender: str | None) -> None:
    """Refuse a birth date or gender that contradicts the ID number; ``None`` or ``""`` means not given.

    The ID number is the authority: when the two disagree, either the number
    or the other field was mistyped, and storing both would leave the record
    saying two things. Gender may be ``male``/``female`` or 男/女, as ledgers write it;
    the birth date a ``date`` or anything :func:`parse_date` reads.
    """
    if birth_date is not None and birth_date != "":
        given = parse_date(birth_date)
        if given != id_number.birth_date:
            raise InvalidValue(ID_BIRTH_MISMATCH, expected=id_number.birth_date.isoformat(), given=given.isoformat())
    if gender is None or str(gender).strip() == "":
        return
    said = _GENDERS.get(str(gender).strip().lower())
    if said is None:
        raise InvalidValue(GENDER_UNKNOWN, value=str(gender).strip())
    if said != id_number.gender:
        mismatch = ID_MALE_MISMATCH if id_number.gender == "male" else ID_FEMALE_MISMATCH
        raise InvalidValue(mismatch)


# --- Unified social credit codes (统一社会信用代码, GB 32100-2015) ---------------------------------------------

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CODE = re.compile(r"[0-9A-Z]{8}-?[0-9X]")

USCC_LENGTH = N_("A unified social credit code has 18 characters; this one has {length}.")
USCC_OLD_REGISTRATION = N_(
    "This is an old 15-digit business registration number; enter the 18-character unified social credit code."
)
USCC_OLD_ORG_CODE = N_(
    "This is an old 9-character organisation code; enter the 18-character unified social credit code."
)
USCC_NEVER_USED = N_(
    "Credit codes never use the letters I, O, S, V or Z; “{char}” at position {position} was probably mistyped."
)
USCC_CHAR = N_("“{char}” at position {position} is not allowed in a unified social credit code.")
USCC_REGION = N_(
    "Characters 3 to 8 of a unified social credit code are a region code and must be digits; “{char}” at position {position} is not."
)
USCC_CHECKSUM = N_(
    "The last character of the credit code does not match the others; one of the characters was probably mistyped."
)


def uscc_check_char(first17: str) -> str:
    """The 18th character of a credit code (GB 32100: weighted sum modulo 31 over the code's own alphabet)."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def _is_org_code(text: str) -> bool:
    """True for a valid old organisation code (GB 11714, ``60003734-1``), which ledgers still carry."""
    if not _ORG_CODE.fullmatch(text):
        return False
    body, check = text[:8], text[-1]
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    expected = 11 - total % 11
    return check == {10: "X", 11: "0"}.get(expected, str(expected))


def parse_uscc(value: object) -> str:
    """Check a unified social credit code and return it in upper case.

    Only what the standard fixes is checked: 18 characters from its alphabet
    (no I, O, S, V, Z, which look like digits), digits for the region code in
    positions 3–8, and the check character. The authority and category
    characters are not matched against a list, because new ones appear
    (``N`` for village collectives came after the standard); python-stdnum
    wants digits in positions 1–8 and so refuses those. The old codes the
    credit code replaced are named as such, so the person looks up the new one.
    """
    text = _cell_text(value).upper()
    if not text:
        raise InvalidValue(REQUIRED)
    if len(text) == 15 and text.isdigit():
        raise InvalidValue(USCC_OLD_REGISTRATION)
    if _is_org_code(text):
        raise InvalidValue(USCC_OLD_ORG_CODE)
    for position, char in enumerate(text, 1):
        if char in "IOSVZ":
            raise InvalidValue(USCC_NEVER_USED, char=char, position=position)
        if char not in USCC_CHARSET:
            raise InvalidValue(USCC_CHAR, char=char, position=position)
    if len(text) != 18:
        raise InvalidValue(USCC_LENGTH, length=len(text))
    for position in range(3, 9):
        if not text[position - 1].isdigit():
            raise InvalidValue(USCC_REGION, char=text[position - 1], position=position)
    if text[17] != uscc_check_char(text[:17]):
        raise InvalidValue(USCC_CHECKSUM)
    return text


# --- Phone numbers ------------------------------------------------------------------------------------------------

PHONE_CHAR = N_("A phone number has only digits, spaces, hyphens and brackets; “{char}” is not allowed.")
PHONE_FOREIGN = N_("Only mainland China numbers (+86) are accepted.")
PHONE_MOBILE_LENGTH = N_("A mobile number has 11 digits; this one has {count}.")
PHONE_MOBILE_PREFIX = N_("Mobile numbers start with 13 to 19; this one starts with {prefix}.")
PHONE_LOCAL = N_("After the area code {area}, a landline number has 7 or 8 digits and does not start with 0 or 1.")
PHONE_NO_AREA = N_("A landline number needs its area code, e.g. 023-63891234.")
PHONE_OTHER = N_("This is neither a mobile number nor a landline number with its area code.")

_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|#)(\d{1,6})$", re.IGNORECASE)
_LOCAL = re.compile(r"[2-9]\d{6,7}")


def _landline(digits: str) -> tuple[str, str]:
    """Split a trunk-prefixed number into area code and local number: 010 and 02x have two digits after the 0."""
    size = 3 if digits[1] in "12" else 4
    return digits[:size], digits[size:]


_MOBILE_PREFIXES = frozenset(f"1{d}" for d in "3456789")


def parse_phone(value: object) -> str:
    """A mainland phone number in one stored form, so the same phone is found and compared as the same text.

    Mobiles become 11 digits (``+86``, ``86``, ``0086``, spaces and hyphens
    dropped); landlines become ``023-63891234``, with ``-123`` for an
    extension written ``-123``, ``转123``, ``分机123``, ``ext 123`` or ``#123``;
    400/800 service numbers become ``400-123-4567``. Anything else is refused
    with the part that is wrong, e.g. a landline typed without its area code.
    """
    if (
        type(value) is str
        and len(value) == 11
        and value.isascii()
        and value.isdigit()
        and value[:2] in _MOBILE_PREFIXES
    ):
        return value  # 11 ASCII digits starting 13–19: a mobile number in its stored form, nothing to undo
    text = _cell_text(value)
    if not text:
        raise InvalidValue(REQUIRED)
    extension = ""
    found = _EXTENSION.search(text)
    if found:
        extension, text = found.group(1), text[: found.start()]
    text = re.sub(r"^\((\+?86)\)", r"\1", text)
    international = False
    if text.startswith("+") or text.startswith("00"):
        if not (text.startswith("+86") or text.startswith("0086")):
            raise InvalidValue(PHONE_FOREIGN)
        text, international = text.removeprefix("+86").removeprefix("0086"), True
    for char in text:
        if char not in "0123456789-()":
            raise InvalidValue(PHONE_CHAR, char=char)
    groups = [g for g in re.split(r"[-()]+", text) if g]
    digits = "".join(groups)
    if not digits:
        raise InvalidValue(PHONE_OTHER)
    if not international and len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    if international and (digits[0] in "23456789" or digits.startswith("10")):
        digits = "0" + digits  # +86 23 6389 1234: the trunk 0 is dropped after a country code (10 is Beijing)

    if digits[0] == "1":
        if extension:
            raise InvalidValue(PHONE_OTHER)
        if len(digits) != 11:
            raise InvalidValue(PHONE_MOBILE_LENGTH, count=len(digits))
        if digits[1] not in "3456789":
            raise InvalidValue(PHONE_MOBILE_PREFIX, prefix=digits[:2])
        return digits
    if digits[:3] in ("400", "800") and len(digits) == 10:
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}" + (f"-{extension}" if extension else "")
    if digits[0] == "0" and len(digits) > 1:
        area, local = _landline(digits)
        if not _LOCAL.fullmatch(local) and not extension and len(groups) >= 2 and len(groups[-1]) <= 6:
            # 023-63891234-123: the last group is an extension
            shorter = _landline("".join(groups[:-1]))[1]
            if _LOCAL.fullmatch(shorter):
                local, extension = shorter, groups[-1]
        if not _LOCAL.fullmatch(local):
            raise InvalidValue(PHONE_LOCAL, area=area)
        return f"{area}-{local}" + (f"-{extension}" if extension else "")
    if _LOCAL.fullmatch(digits):
        raise InvalidValue(PHONE_NO_AREA)
    raise InvalidValue(PHONE_OTHER)


# --- Dates ------------------------------------------------------------------------------------------------------

DATE_FORMAT = N_("“{value}” is not a date; write it year first, e.g. 1985-03-02.")
DATE_YEAR_LAST = N_(
    "In “{value}” the year comes last, so the day and month could be either way round; write the date year first, e.g. 1985-03-02."
)
DATE_IMPOSSIBLE = N_("“{value}” is not a real date.")

_DATE_PATTERNS = (
    re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})"),
    re.compile(r"(\d{4})(年)(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})()(\d{2})(\d{2})"),
)
_YEAR_LAST = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")
_TIME = re.compile(r"(?:[T\s]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$")
EXCEL_EPOCH = date(1899, 12, 30)  # serial 61 is 1900-03-01; Excel counts a 29 February 1900 that never was
EXCEL_SERIALS = (1, 80000)


def _excel_serial(serial: float) -> date:
    """The date of an Excel serial number (1900 system), as openpyxl gives an unformatted date cell."""
    days = int(serial)
    if days == 60:
        raise InvalidValue(DATE_IMPOSSIBLE, value="1900-02-29")
    return EXCEL_EPOCH + timedelta(days=days if days > 60 else days + 1)


def parse_date(value: object) -> date:
    """A date from a ledger cell or a client, in the forms Chinese ledgers use.

    Accepts ``1985-03-02``, ``1985-3-2``, ``1985/3/2``, ``1985.03.02``,
    ``19850302``, ``1985年3月2日`` (a trailing time is ignored), ``date`` and
    ``datetime`` objects, and Excel serial numbers from 1 to 80000 given as
    numbers (``31108`` is 1985-03-02). Refuses dates that do not exist and
    year-last forms like ``03/02/1985``, which mean different days to
    different people.
    """
    if type(value) is str and len(value) == 10 and value[4] == value[7] == "-" and value.isascii():
        try:  # 1985-03-02, the form exports and most ledgers use; anything odd takes the long way below
            return date.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidValue(REQUIRED)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if EXCEL_SERIALS[0] <= value <= EXCEL_SERIALS[1]:
            return _excel_serial(value)
        value = str(int(value)) if float(value).is_integer() else str(value)
    shown = str(value).strip()
    text = normalize(_TIME.sub("", unicodedata.normalize("NFKC", shown)))
    for pattern in _DATE_PATTERNS:
        found = pattern.fullmatch(text)
        if found:
            year, _sep, month, day = found.groups()
            try:
                return date(int(year), int(month), int(day))
            except ValueError:
                raise InvalidValue(DATE_IMPOSSIBLE, value=shown) from None
    if _YEAR_LAST.fullmatch(text):
        raise InvalidValue(DATE_YEAR_LAST, value=shown)
    raise InvalidValue(DATE_FORMAT, value=shown)


# --- Masking for display ----------------------------------------------------------------------------------------


def mask_id_number(value: str | None) -> str:
    """An ID number as shown to someone not cleared to see it: region and last four, enough to tell people apart.

    ``500103199001011234`` → ``500103********1234``. Short or malformed
    values are masked whole, because a mask must never show more than it means to.
    """
    text = (value or "").strip()
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_phone(value: str | None) -> str:
    """A phone number as shown to someone not cleared to see it.

    Mobiles keep the carrier prefix and the last four (``138****5678``);
    landlines keep the area code, the last two digits and any extension
    (``023-******34``); 400/800 numbers are public and shown whole. A value
    that is not a phone number keeps only its last two characters.
    """
    if not value:
        return ""
    try:
        phone = parse_phone(value)
    except InvalidValue:
        text = str(value).strip()
        return "*" * max(len(text) - 2, 0) + text[-2:]
    if "-" not in phone:
        return phone[:3] + "****" + phone[-4:]
    if phone[:3] in ("400", "800"):
        return phone
    area, local, *extension = phone.split("-")
    return "-".join([area, "*" * (len(local) - 2) + local[-2:], *extension])
