"""Edits the terms allow ("relative changes in time, location and editorial style") are not
changed facts; changed figures and names still are (checks/housestyle.py)."""

from __future__ import annotations

import pytest

from xpostcheck.checks.housestyle import is_style_edit, same_numbers


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("15", "15%,"),
        ("15 percent", "15%"),
        ("2,300", "2300"),
        ("five to two", "5-2"),
        ("forty-five", "45"),
        ("1.5 million", "1,500,000"),
        ("third", "3rd"),
        ("on Tuesday", "last week"),
        ("yesterday", "on Tuesday"),
        ("Merrill Crossing", "here"),
        ("here", "in Fenwick"),
        ("Martin", "Mr."),
        ("Dr.", "Rosa"),
        ("Oct.", "October"),
        ("St.", "Street"),
    ],
)
def test_style_edits(old: str, new: str) -> None:
    assert is_style_edit(old.split(), new.split()) is True


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("40,000", "90,000"),
        ("2,300", "230"),
        ("41", "14"),
        ("five", "six"),
        ("1.5 million", "15 million"),
        ("Okafor", "Delgado"),
        ("Tuesday", "Wednesday"),
        ("February", "March"),
        ("Fenwick", "Merrill"),
    ],
)
def test_changed_facts(old: str, new: str) -> None:
    assert is_style_edit(old.split(), new.split()) is False


def test_same_numbers_needs_numbers() -> None:
    assert same_numbers(["water"], ["board"]) is False
    assert same_numbers(["40,000", "acres"], ["40000", "acres"]) is True
