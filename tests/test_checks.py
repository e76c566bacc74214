"""Tests for s2l/checks.py."""

import pytest

from s2l import checks


def test_integers_and_numbers():
  assert checks.is_integer(3, 1) and checks.is_integer(0, 0)
  assert not checks.is_integer(0, 1) and not checks.is_integer(True, 0)
  assert not checks.is_integer(2.0, 1) and not checks.is_integer("2", 1)
  assert checks.is_number(0.5) and checks.is_number(3)
  assert not checks.is_number(float("inf")) and not checks.is_number(True)
  assert not checks.is_number("1e-3")


def test_failures_name_the_argument_and_value():
  checks.positive("train", "width", 0.25)
  checks.positive("train", "batch_size", 8, integer=True)
  with pytest.raises(ValueError, match=r"^train\.batch_size must be a "
                     r"positive integer, got -1\.$"):
    checks.positive("train", "batch_size", -1, integer=True)
  with pytest.raises(ValueError, match="Loss.temperature must be a positive "
                     "number, got '1'"):
    checks.positive("Loss", "temperature", "1")
  with pytest.raises(ValueError, match=r"^x\.y must be odd, got 2\.$"):
    checks.require("x", "y", 2, False, "odd")
