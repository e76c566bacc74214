"""Shared test fixtures."""

import gin
import pytest


@pytest.fixture(autouse=True)
def _clear_gin():
  """Every test starts and ends with an empty gin config."""
  gin.clear_config()
  yield
  gin.clear_config()
