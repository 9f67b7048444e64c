"""The code rules (GB/T 2260 and the statistical division codes), as tables of cases."""

import pytest

from jurisdictions.choices import Level
from jurisdictions.rules import code_error, county_code_of, parent_error

VALID_CODES = [
    ("110000", Level.PROVINCE),
    ("990000", Level.PROVINCE),
    ("110100", Level.CITY),
    ("532500", Level.CITY),
    ("110101", Level.COUNTY),
    ("532527", Level.COUNTY),
    ("429004", Level.COUNTY),  # 省直辖县级行政区划 (仙桃市)
    ("532527100", Level.TOWNSHIP),
    ("532527100201", Level.VILLAGE),
    ("5325271002010", Level.GRID),  # the shortest grid code: village + 1 digit
    ("53252710020100000001", Level.GRID),  # the longest: village + 8 digits
]

INVALID_CODES = [
    ("", Level.PROVINCE),
    ("11000a", Level.PROVINCE),
    (" 110000", Level.PROVINCE),
    ("110000\n", Level.PROVINCE),
    ("-10000", Level.PROVINCE),
    ("９９０１０１", Level.COUNTY),  # full-width digits
    ("٩٩٠١٠١", Level.COUNTY),  # Arabic-Indic digits
    ("110100", Level.PROVINCE),  # a city's code
    ("1100000", Level.PROVINCE),
    ("11000", Level.PROVINCE),
    ("110000", Level.CITY),  # ends in 0000: a province's
    ("110101", Level.CITY),  # does not end in 00: a county's
    ("1101000", Level.CITY),
    ("110100", Level.COUNTY),  # ends in 00: a city's
    ("1101010", Level.COUNTY),
    ("11010", Level.COUNTY),
    ("53252710", Level.TOWNSHIP),
    ("5325271001", Level.TOWNSHIP),
    ("53252710020", Level.VILLAGE),
    ("5325271002011", Level.VILLAGE),
    ("532527100201", Level.GRID),  # a village's code: no grid number
    ("532527100201000000001", Level.GRID),  # 21 digits
    ("110000", "district"),  # unknown level
    ("110000", ""),
]


@pytest.mark.parametrize(("code", "level"), VALID_CODES)
def test_valid_codes(code, level):
    assert code_error(code, level) is None


@pytest.mark.parametrize(("code", "level"), INVALID_CODES)
def test_invalid_codes(code, level):
    message = code_error(code, level)
    assert isinstance(message, str) and message


PARENTS_OK = [
    # code, level, parent code, parent level
    ("110000", Level.PROVINCE, None, None),
    ("110100", Level.CITY, "110000", Level.PROVINCE),
    ("110101", Level.COUNTY, "110100", Level.CITY),
    ("429004", Level.COUNTY, "420000", Level.PROVINCE),  # county directly under the province
    ("441900003", Level.TOWNSHIP, "441900", Level.CITY),  # 东莞: towns directly under the city
    ("532527100", Level.TOWNSHIP, "532527", Level.COUNTY),
    ("532527100201", Level.VILLAGE, "532527100", Level.TOWNSHIP),
    ("532527100201003", Level.GRID, "532527100201", Level.VILLAGE),
]

PARENTS_WRONG = [
    ("110000", Level.PROVINCE, "990000", Level.PROVINCE),  # a province has no parent
    ("110100", Level.CITY, None, None),  # only a province may have no parent
    ("110100", Level.CITY, "", None),
    ("110101", Level.COUNTY, "110100", None),  # parent unknown (neither in file nor in system)
    ("110101", Level.COUNTY, "110102", Level.COUNTY),  # same level
    ("110100", Level.CITY, "110101", Level.COUNTY),  # wrong level order: parent below
    ("532527100201", Level.VILLAGE, "532527100201003", Level.GRID),
    ("120100", Level.CITY, "110000", Level.PROVINCE),  # wrong prefix
    ("110201", Level.COUNTY, "110100", Level.CITY),
    ("532528100", Level.TOWNSHIP, "532527", Level.COUNTY),
    ("532527101001", Level.VILLAGE, "532527100", Level.TOWNSHIP),
    ("532527100202003", Level.GRID, "532527100201", Level.VILLAGE),
    ("430004", Level.COUNTY, "420000", Level.PROVINCE),
]


@pytest.mark.parametrize(("code", "level", "parent_code", "parent_level"), PARENTS_OK)
def test_parent_accepted(code, level, parent_code, parent_level):
    assert parent_error(code, level, parent_code, parent_level) is None


@pytest.mark.parametrize(("code", "level", "parent_code", "parent_level"), PARENTS_WRONG)
def test_parent_rejected(code, level, parent_code, parent_level):
    message = parent_error(code, level, parent_code, parent_level)
    assert isinstance(message, str) and message


def test_missing_parent_names_the_code():
    assert "110100" in parent_error("110101", Level.COUNTY, "110100", None)


def test_wrong_prefix_names_the_prefix():
    assert "532527" in parent_error("532528100", Level.TOWNSHIP, "532527", Level.COUNTY)


@pytest.mark.parametrize(
    ("code", "level", "expected"),
    [
        ("110000", Level.PROVINCE, ""),
        ("110100", Level.CITY, ""),
        ("110101", Level.COUNTY, "110101"),
        ("429004", Level.COUNTY, "429004"),
        ("532527100", Level.TOWNSHIP, "532527"),
        ("441900003", Level.TOWNSHIP, "441900"),  # no county: the city stands in for it
        ("532527100201", Level.VILLAGE, "532527"),
        ("53252710020100000001", Level.GRID, "532527"),
    ],
)
def test_county_code_of(code, level, expected):
    assert county_code_of(code, level) == expected
