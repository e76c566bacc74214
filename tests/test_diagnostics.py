"""Tests for s2l/diagnostics.py."""

import numpy as np
import pytest

from s2l import diagnostics


def test_dead_fraction_counts_units_that_never_fire():
  activations = np.array([[0.0, 1.0, 0.0, 0.0],
                          [0.0, 0.0, 2.0, 0.0],
                          [0.0, 3.0, 0.0, 0.0]])
  assert diagnostics.dead_fraction(activations) == 0.5
  # Per-patch features [N, n, F]: a unit alive on any patch is alive.
  per_patch = np.zeros((2, 3, 4))
  per_patch[1, 2, 3] = 0.5
  assert diagnostics.dead_fraction(per_patch) == 0.75


def test_effective_dimension_of_known_spectra():
  rng = np.random.default_rng(0)
  # Variance spread evenly over k of 50 directions: participation ratio ≈ k.
  for k in (1, 4, 20):
    x = np.zeros((4000, 50))
    x[:, :k] = rng.normal(size=(4000, k))
    assert diagnostics.effective_dimension(x) == pytest.approx(k, rel=0.05)
  # Two directions with variances 1 and 3 (eigenvalues): (1+3)²/(1+9) = 1.6.
  x = rng.normal(size=(20000, 2)) * np.sqrt([1.0, 3.0])
  assert diagnostics.effective_dimension(x) == pytest.approx(1.6, rel=0.03)
  # It does not depend on a rotation or on a shift.
  rotation, _ = np.linalg.qr(rng.normal(size=(2, 2)))
  assert diagnostics.effective_dimension(x @ rotation + 5.0) == pytest.approx(
      diagnostics.effective_dimension(x))
  assert diagnostics.effective_dimension(np.ones((10, 3))) == 0.0
  diverged = x.copy()
  diverged[3, 1] = np.nan
  assert np.isnan(diagnostics.effective_dimension(diverged))


def test_few_wide_rows_go_through_the_gram_matrix_unchanged():
  rng = np.random.default_rng(1)
  x = rng.normal(size=(30, 8)) @ rng.normal(size=(8, 200))  # N < E.
  centred = x - x.mean(0)
  eigenvalues = np.linalg.eigvalsh(np.cov(centred.T))
  expected = eigenvalues.sum()**2 / np.sum(eigenvalues**2)
  assert diagnostics.effective_dimension(x) == pytest.approx(expected,
                                                             rel=1e-6)
  numbers = diagnostics.collapse(np.maximum(x, 0.0))
  assert numbers["units"] == 200 and 0.0 <= numbers["dead_fraction"] < 1.0
