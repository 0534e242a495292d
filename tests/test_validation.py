"""The checks behind the three base tables: ID numbers, credit codes, phones, dates and masks (no database).

Each refusal is checked by the English text a person would read, because
the reason is the point: "the number lost its digits in a spreadsheet"
tells someone what to do, "invalid" does not.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest

from jiceng.core.errors import InvalidValue
from jiceng.core.records.validation import (
    IdNumber,
    check_id_against,
    id_check_char,
    mask_id_number,
    mask_phone,
    normalize,
    parse_date,
    parse_id_number,
    parse_phone,
    parse_uscc,
)

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
LOST = (
    "The number lost its digits in a spreadsheet (it reads {}); format the column as text and enter the number again."
)
REQUIRED = "This field is required."


def reason(parse: Callable[..., object], *args: object) -> str:
    """The English text of the refusal ``parse(*args)`` must raise."""
    with pytest.raises(InvalidValue) as info:
        parse(*args)
    return info.value.texts()[1]


def with_id_check(first17: str) -> str:
    """An ID number completed with its check character, computed as ISO 7064 MOD 11-2 states it (not by the table)."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return first17 + ("X" if value == 10 else str(value))


def with_uscc_check(first17: str) -> str:
    """A credit code completed with its check character per GB 32100 (weights 3^i mod 31)."""
    total = sum(USCC_CHARSET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return first17 + USCC_CHARSET[(31 - total % 31) % 31]


# --- normalize ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("  110105  ", "110105"),
        ("１１０１０５", "110105"),
        ("ＡＢＣｘ", "ABCx"),
        ("110105\u3000194912", "110105194912"),
        ("110105 19491231 002X", "11010519491231002X"),
        ("023－63891234", "023-63891234"),
        ("023–63891234", "023-63891234"),
        ("023—63891234", "023-63891234"),
        ("\ufeff1381234\u200b5678", "13812345678"),
        ("（０２３）", "(023)"),
        ("", ""),
    ],
)
def test_normalize_undoes_full_width_dashes_and_spaces(typed: str, expected: str) -> None:
    assert normalize(typed) == expected


# --- ID numbers --------------------------------------------------------------------------------------------------


def test_known_female_id_number() -> None:
    parsed = parse_id_number("11010519491231002X")
    assert parsed == IdNumber("11010519491231002X", date(1949, 12, 31), "female", "110105")


def test_odd_17th_digit_is_male() -> None:
    number = with_id_check("11010519491231001")
    assert parse_id_number(number).gender == "male"
    assert parse_id_number(number).birth_date == date(1949, 12, 31)


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002x",
        "１１０１０５１９４９１２３１００２ｘ",
        " 110105 19491231 002X ",
        "110105\u300019491231002Ｘ",
    ],
)
def test_id_number_is_normalised(typed: str) -> None:
    assert parse_id_number(typed).number == "11010519491231002X"


def test_id_number_as_a_python_int() -> None:
    number = with_id_check("50010319900101123")
    assert parse_id_number(int(number)).number == number


def test_bad_id_checksum() -> None:
    assert reason(parse_id_number, "36042619910102009X") == (
        "The last character of the ID number does not match the others; one of the characters was probably mistyped."
    )


def test_the_check_character_from_lookup_tables_agrees_with_the_formula() -> None:
    """parse_id_number sums the weights from tables of region, birth date and sequence; id_check_char computes them."""
    rng = random.Random(11643)
    for _ in range(2000):
        born = date(1890, 1, 1) + timedelta(days=rng.randrange(48_000))
        first17 = f"{rng.choice((11, 31, 50, 65, 91))}{rng.randrange(10_000):04d}{born:%Y%m%d}{rng.randrange(1000):03d}"
        right = id_check_char(first17)
        assert parse_id_number(first17 + right).number == first17 + right
        wrong = rng.choice([c for c in "0123456789X" if c != right])
        with pytest.raises(InvalidValue):
            parse_id_number(first17 + wrong)


@pytest.mark.parametrize(
    ("parse", "usual", "long_way"),
    [
        (parse_phone, "13812345678", "138 1234 5678"),
        (parse_date, "1985-03-02", "1985-3-2"),
        (lambda v: parse_id_number(v).number, "11010519491231002x", "11010519491231002x "),
    ],
)
def test_the_usual_forms_read_as_the_long_way_reads_them(
    parse: Callable[[object], object], usual: str, long_way: str
) -> None:
    assert parse(usual) == parse(long_way)


def test_a_usual_looking_date_that_does_not_exist_is_refused_as_such() -> None:
    assert reason(parse_date, "1985-02-30") == "“1985-02-30” is not a real date."


def test_single_mistyped_digit_is_caught() -> None:
    good = "11010519491231002X"
    for position in range(14, 17):  # the sequence digits; the others fail their own checks first
        for digit in "0123456789":
            typo = good[:position] + digit + good[position + 1 :]
            if typo != good:
                with pytest.raises(InvalidValue):
                    parse_id_number(typo)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("5.00103E+17", "5.00103E+17"),
        ("5.00103199001011234e+17", "5.00103199001011234e+17"),
        ("5,00103E+17", "5,00103E+17"),
        ("５.００１０３Ｅ＋１７", "5.00103E+17"),
        (5.00103199001011234e17, "5.00103199001011e+17"),
        ("500103199001011234.0", "500103199001011234.0"),
        ("500103199001011000", "500103199001011000"),  # a number cell written out in full: 15 digits, then 000
    ],
)
def test_id_number_mangled_by_a_spreadsheet(typed: object, shown: str) -> None:
    assert reason(parse_id_number, typed) == LOST.format(shown)


def test_id_number_ending_000_with_a_right_check_is_accepted() -> None:
    number = with_id_check("11010519800101100")
    assert number == "110105198001011000"
    assert parse_id_number(number).birth_date == date(1980, 1, 1)


@pytest.mark.parametrize("typed", [None, "", "   ", "\u3000"])
def test_empty_id_number(typed: object) -> None:
    assert reason(parse_id_number, typed) == REQUIRED


def test_old_15_digit_id_number() -> None:
    assert reason(parse_id_number, "110105491231002") == (
        "This is an old 15-digit ID number; enter the 18-digit number from the current ID card."
    )


@pytest.mark.parametrize(
    ("typed", "length"), [("1101051949123100", 16), ("11010519491231002", 17), ("11010519491231002X1", 19)]
)
def test_id_number_of_wrong_length(typed: str, length: int) -> None:
    assert reason(parse_id_number, typed) == f"An ID number has 18 characters; this one has {length}."


@pytest.mark.parametrize(
    ("typed", "char", "position"),
    [
        ("110105-19491231002X", "-", 7),
        ("1101051949123100X2", "X", 17),
        ("11010519491231002Y", "Y", 18),
        ("张三", "张", 1),
        ("11010519491231002X.", ".", 19),
    ],
)
def test_id_number_with_bad_characters(typed: str, char: str, position: int) -> None:
    assert reason(parse_id_number, typed) == (
        f"An ID number is 17 digits followed by a digit or X; “{char}” at position {position} is not allowed."
    )


@pytest.mark.parametrize(
    "province", ["00", "10", "16", "20", "24", "30", "38", "40", "47", "55", "60", "66", "72", "84", "90", "99"]
)
def test_unknown_province(province: str) -> None:
    number = with_id_check(province + "010519491231002")
    assert reason(parse_id_number, number) == (
        f"The first two digits of an ID number are a province code; {province} is not one."
    )


@pytest.mark.parametrize("province", ["11", "15", "23", "37", "46", "50", "54", "65", "71", "81", "82", "83", "91"])
def test_every_province_range_is_accepted(province: str) -> None:
    assert parse_id_number(with_id_check(province + "010519491231002")).region == province + "0105"


def test_unknown_county_is_accepted() -> None:
    """Field data keeps county codes retired long ago; only the province is checked."""
    number = with_id_check("50999919800101123")
    assert parse_id_number(number).region == "509999"


@pytest.mark.parametrize("digits", ["19900230", "19901301", "19900001", "19900100", "19000229"])
def test_impossible_birth_date(digits: str) -> None:
    number = with_id_check("110105" + digits + "002")
    assert reason(parse_id_number, number) == f"The birth date in the ID number, {digits}, is not a real date."


def test_leap_day_birth_date() -> None:
    assert parse_id_number(with_id_check("11010520000229002")).birth_date == date(2000, 2, 29)


def test_birth_date_in_the_future() -> None:
    number = with_id_check("11010520210101002")
    assert reason(lambda n: parse_id_number(n, today=date(2020, 12, 31)), number) == (
        "The birth date in the ID number, 2021-01-01, is in the future."
    )
    assert parse_id_number(number, today=date(2021, 1, 1)).birth_date == date(2021, 1, 1)
    assert reason(parse_id_number, with_id_check("11010520990101002")) == (
        "The birth date in the ID number, 2099-01-01, is in the future."
    )


def test_birth_date_before_1890() -> None:
    assert reason(parse_id_number, with_id_check("11010518891231002")) == (
        "The birth date in the ID number, 1889-12-31, is before 1890."
    )
    assert parse_id_number(with_id_check("11010518900101002")).birth_date == date(1890, 1, 1)


# --- an ID number against the birth date and gender fields --------------------------------------------------------

FEMALE = parse_id_number("11010519491231002X")
MALE = parse_id_number(with_id_check("11010519491231001"))


@pytest.mark.parametrize(
    ("birth_date", "gender"),
    [
        (date(1949, 12, 31), "female"),
        (datetime(1949, 12, 31, 8, 30), "女"),
        ("1949/12/31", "Female"),
        (None, None),
        ("", ""),
        (None, "F"),
    ],
)
def test_fields_that_agree_with_the_id_number(birth_date: object, gender: str | None) -> None:
    check_id_against(FEMALE, birth_date, gender)


def test_birth_date_disagreeing_with_the_id_number() -> None:
    assert reason(check_id_against, FEMALE, date(1949, 12, 30), None) == (
        "The ID number gives the birth date 1949-12-31, but the birth date entered is 1949-12-30."
    )


def test_gender_disagreeing_with_the_id_number() -> None:
    assert reason(check_id_against, MALE, None, "female") == (
        "The ID number belongs to a man, but the gender entered is female."
    )
    assert reason(check_id_against, FEMALE, None, "男") == (
        "The ID number belongs to a woman, but the gender entered is male."
    )
    check_id_against(MALE, date(1949, 12, 31), "male")


def test_gender_that_is_neither() -> None:
    assert reason(check_id_against, FEMALE, None, "unknown") == "The gender must be male or female, not “unknown”."


# --- unified social credit codes --------------------------------------------------------------------------------


def test_known_credit_code() -> None:
    assert parse_uscc("91110000600037341L") == "91110000600037341L"


@pytest.mark.parametrize(
    "typed", ["91110000600037341l", " 9111 0000 6000 3734 1L ", "９１１１００００６０００３７３４１ｌ"]
)
def test_credit_code_is_normalised(typed: str) -> None:
    assert parse_uscc(typed) == "91110000600037341L"


def test_village_collective_code_starting_with_n() -> None:
    """python-stdnum wants digits in positions 1–8 and so refuses these; the standard does not."""
    code = with_uscc_check("N2500103MA0123456")
    assert parse_uscc(code) == code
    assert parse_uscc(code.lower()) == code


@pytest.mark.parametrize("first", ["1", "5", "9", "Y", "A", "N"])
def test_any_registration_authority_with_a_right_check(first: str) -> None:
    code = with_uscc_check(first + "1110000600037341")
    assert parse_uscc(code) == code


def test_every_single_wrong_character_is_refused() -> None:
    good = "91110000600037341L"
    for position in range(18):
        for char in USCC_CHARSET:
            if char != good[position]:
                with pytest.raises(InvalidValue):
                    parse_uscc(good[:position] + char + good[position + 1 :])


def test_one_wrong_character_gives_the_checksum_reason() -> None:
    assert reason(parse_uscc, "91110000600037342L") == (
        "The last character of the credit code does not match the others; one of the characters was probably mistyped."
    )


@pytest.mark.parametrize(
    ("typed", "char", "position"),
    [
        ("9111000060003734IL", "I", 17),
        ("91110000600O37341L", "O", 12),
        ("91110000600037341Z", "Z", 18),
        ("S1110000600037341L", "S", 1),
        ("9V110000600037341L", "V", 2),
        ("91110000600037341i", "I", 18),
    ],
)
def test_letters_the_standard_never_uses(typed: str, char: str, position: int) -> None:
    assert reason(parse_uscc, typed) == (
        f"Credit codes never use the letters I, O, S, V or Z; “{char}” at position {position} was probably mistyped."
    )


@pytest.mark.parametrize(
    ("typed", "char", "position"), [("91110000-600037341L", "-", 9), ("911100006000373*1L", "*", 16)]
)
def test_other_characters_in_a_credit_code(typed: str, char: str, position: int) -> None:
    assert reason(parse_uscc, typed) == (
        f"“{char}” at position {position} is not allowed in a unified social credit code."
    )


def test_region_code_must_be_digits() -> None:
    code = with_uscc_check("911A0000600037341")
    assert reason(parse_uscc, code) == (
        "Characters 3 to 8 of a unified social credit code are a region code and must be digits; “A” at position 4 is not."
    )


@pytest.mark.parametrize(("typed", "length"), [("91110000600037341", 17), ("91110000600037341LL", 19), ("9", 1)])
def test_credit_code_of_wrong_length(typed: str, length: int) -> None:
    assert reason(parse_uscc, typed) == f"A unified social credit code has 18 characters; this one has {length}."


def test_old_codes_the_credit_code_replaced() -> None:
    assert reason(parse_uscc, "110108000000016") == (
        "This is an old 15-digit business registration number; enter the 18-character unified social credit code."
    )
    for org_code in ("60003734-1", "600037341"):
        assert reason(parse_uscc, org_code) == (
            "This is an old 9-character organisation code; enter the 18-character unified social credit code."
        )


@pytest.mark.parametrize("typed", [None, "", "  "])
def test_empty_credit_code(typed: object) -> None:
    assert reason(parse_uscc, typed) == REQUIRED


def test_credit_code_mangled_by_a_spreadsheet() -> None:
    assert reason(parse_uscc, "9.11100006E+17") == LOST.format("9.11100006E+17")


# --- phones -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("(+86)13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("0086 138 1234 5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        (13812345678, "13812345678"),
        (13812345678.0, "13812345678"),
        ("13812345678.0", "13812345678"),
        ("19912345678", "19912345678"),
        ("14712345678", "14712345678"),
        ("023-63891234", "023-63891234"),
        ("02363891234", "023-63891234"),
        ("023 6389 1234", "023-63891234"),
        ("(023)63891234", "023-63891234"),
        ("（０２３）６３８９１２３４", "023-63891234"),
        ("023-6389-1234", "023-63891234"),
        ("010-62345678", "010-62345678"),
        ("0831-2345678", "0831-2345678"),
        ("08312345678", "0831-2345678"),
        ("+86 23 6389 1234", "023-63891234"),
        ("+86 10 6234 5678", "010-62345678"),
        ("+86 (0)23 6389 1234", "023-63891234"),
        ("023-63891234-123", "023-63891234-123"),
        ("023-63891234转123", "023-63891234-123"),
        ("023-63891234 转 123", "023-63891234-123"),
        ("023-63891234分机8", "023-63891234-8"),
        ("023-63891234 ext. 123", "023-63891234-123"),
        ("023-63891234#123", "023-63891234-123"),
        ("400-810-8888", "400-810-8888"),
        ("4008108888", "400-810-8888"),
        ("800 810 8888", "800-810-8888"),
    ],
)
def test_phone_numbers_in_their_stored_form(typed: object, stored: str) -> None:
    assert parse_phone(typed) == stored


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (None, REQUIRED),
        ("", REQUIRED),
        ("1381234567", "A mobile number has 11 digits; this one has 10."),
        ("138123456789", "A mobile number has 11 digits; this one has 12."),
        ("12345678901", "Mobile numbers start with 13 to 19; this one starts with 12."),
        ("10086123456", "Mobile numbers start with 13 to 19; this one starts with 10."),
        ("63891234", "A landline number needs its area code, e.g. 023-63891234."),
        ("6389123", "A landline number needs its area code, e.g. 023-63891234."),
        ("023-1234", "After the area code 023, a landline number has 7 or 8 digits and does not start with 0 or 1."),
        (
            "023-13891234",
            "After the area code 023, a landline number has 7 or 8 digits and does not start with 0 or 1.",
        ),
        (
            "0831-234567890",
            "After the area code 0831, a landline number has 7 or 8 digits and does not start with 0 or 1.",
        ),
        ("+1 415 555 0100", "Only mainland China numbers (+86) are accepted."),
        ("+852 2345 6789", "Only mainland China numbers (+86) are accepted."),
        ("001 415 555 0100", "Only mainland China numbers (+86) are accepted."),
        ("138.1234.5678", "A phone number has only digits, spaces, hyphens and brackets; “.” is not allowed."),
        ("138 1234 567a", "A phone number has only digits, spaces, hyphens and brackets; “a” is not allowed."),
        ("电话13812345678", "A phone number has only digits, spaces, hyphens and brackets; “电” is not allowed."),
        ("13812345678转1", "This is neither a mobile number nor a landline number with its area code."),
        ("12345", "A mobile number has 11 digits; this one has 5."),
        ("2345", "This is neither a mobile number nor a landline number with its area code."),
        ("400", "This is neither a mobile number nor a landline number with its area code."),
        ("--", "This is neither a mobile number nor a landline number with its area code."),
        ("1.38123E+10", LOST.format("1.38123E+10")),
    ],
)
def test_phone_numbers_refused_with_a_reason(typed: object, expected: str) -> None:
    assert reason(parse_phone, typed) == expected


# --- dates --------------------------------------------------------------------------------------------------------

MARCH_2 = date(1985, 3, 2)


@pytest.mark.parametrize(
    "typed",
    [
        "1985-03-02",
        "1985-3-2",
        "1985/3/2",
        "1985/03/02",
        "19850302",
        "1985年3月2日",
        "1985年03月02日",
        "1985年3月2",
        "1985.03.02",
        "1985.3.2",
        " 1985-03-02 ",
        "１９８５－０３－０２",
        "1985-03-02 00:00:00",
        "1985-03-02T00:00:00",
        "1985/3/2 0:00",
        31108,
        31108.0,
        31108.75,
        19850302,
        MARCH_2,
        datetime(1985, 3, 2, 14, 30),
    ],
)
def test_dates_in_ledger_forms(typed: object) -> None:
    assert parse_date(typed) == MARCH_2


def test_excel_serials_around_its_imaginary_leap_day() -> None:
    assert parse_date(1) == date(1900, 1, 1)
    assert parse_date(59) == date(1900, 2, 28)
    assert parse_date(61) == date(1900, 3, 1)
    assert parse_date(45658) == date(2025, 1, 1)
    assert parse_date(80000) == date(2119, 1, 11)
    assert reason(parse_date, 60) == "“1900-02-29” is not a real date."


@pytest.mark.parametrize("typed", ["1985-02-30", "1985/2/29", "19851301", "1985年4月31日", "1900-02-29"])
def test_dates_that_do_not_exist(typed: str) -> None:
    assert reason(parse_date, typed) == f"“{typed}” is not a real date."


@pytest.mark.parametrize("typed", ["03/02/1985", "3/2/1985", "25/12/1985", "02.03.1985", "2-3-1985"])
def test_year_last_dates_are_refused(typed: str) -> None:
    assert reason(parse_date, typed) == (
        f"In “{typed}” the year comes last, so the day and month could be either way round; write the date year first, e.g. 1985-03-02."
    )


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("85-3-2", "85-3-2"),
        ("March 2, 1985", "March 2, 1985"),
        ("1985-03", "1985-03"),
        ("31108", "31108"),
        (0, "0"),
        (80001, "80001"),
        (-5, "-5"),
        (True, "True"),
        ("1985-3/2", "1985-3/2"),
    ],
)
def test_text_that_is_not_a_date(typed: object, shown: str) -> None:
    assert reason(parse_date, typed) == f"“{shown}” is not a date; write it year first, e.g. 1985-03-02."


@pytest.mark.parametrize("typed", [None, "", "  "])
def test_empty_date(typed: object) -> None:
    assert reason(parse_date, typed) == REQUIRED


# --- masks --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("500103199001011234", "500103********1234"),
        ("11010519491231002X", "110105********002X"),
        (None, ""),
        ("", ""),
        ("12345", "*****"),
    ],
)
def test_mask_id_number(value: str | None, shown: str) -> None:
    assert mask_id_number(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("13812345678", "138****5678"),
        ("023-63891234", "023-******34"),
        ("0831-2345678", "0831-*****78"),
        ("023-63891234-123", "023-******34-123"),
        ("400-810-8888", "400-810-8888"),
        (None, ""),
        ("", ""),
        ("not a phone", "*********ne"),
    ],
)
def test_mask_phone(value: str | None, shown: str) -> None:
    assert mask_phone(value) == shown


def test_a_credit_code_ending_in_e_and_a_digit_is_not_scientific_notation():
    from jiceng.core.records.validation import parse_uscc, uscc_check_char

    first17 = "9250010315379101E"
    code = first17 + uscc_check_char(first17)
    assert code[-2] == "E" and code[-1].isdigit()
    assert parse_uscc(code) == code
