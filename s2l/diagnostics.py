"""Collapse diagnostics of a learnt representation.

A pretext task can be solved by features that throw away what downstream
tasks need. Two numbers show when an embedding layer has collapsed onto a
few directions, computed over a set of examples' activations `[N, E]`:

* `dead_fraction`: the share of units that never fire (a ReLU unit whose
  output is 0 on every example carries no information about any of them);
* `effective_dimension`: the participation ratio of the covariance's
  eigenvalues, (Σλ)² / Σλ², between 1 (all variance along one direction) and
  E (variance spread evenly over every direction).

`s2l.evaluate` writes both for every probed encoder, and `s2l.train` writes
them to TensorBoard (`collapse/…`) at every held-out evaluation.
"""

from typing import Dict

import numpy as np

# A unit counts as alive if it exceeds this on at least one example.
ACTIVE = 1e-6


def dead_fraction(activations: np.ndarray) -> float:
  """Share of units that never exceed `ACTIVE`.

  Args:
    activations: [N, E] (or [N, ..., E]: every leading axis is an example,
      as per-patch features [N, n, E] of a shared encoder).

  Returns:
    In [0, 1].
  """
  activations = np.asarray(activations, np.float64)
  flat = activations.reshape(-1, activations.shape[-1])
  return float(np.mean(~np.any(flat > ACTIVE, axis=0)))


def effective_dimension(activations: np.ndarray) -> float:
  """Participation ratio (Σλ)² / Σλ² of the covariance of [N, E] rows.

  Computed from the N × N Gram matrix when N < E (same non-zero eigenvalues),
  so that it is cheap for wide layers. 0 if every row is the same, NaN if
  any activation is NaN or infinite (a diverged network).
  """
  activations = np.asarray(activations, np.float64)
  flat = activations.reshape(-1, activations.shape[-1])
  if not np.all(np.isfinite(flat)):
    return float("nan")
  centred = flat - flat.mean(axis=0)
  if centred.shape[0] < centred.shape[1]:
    gram = centred @ centred.T
  else:
    gram = centred.T @ centred
  eigenvalues = np.clip(np.linalg.eigvalsh(gram), 0.0, None)
  total = eigenvalues.sum()
  if total <= 0.0:
    return 0.0
  return float(total**2 / np.sum(eigenvalues**2))


def collapse(activations: np.ndarray) -> Dict[str, float]:
  """{"dead_fraction": ..., "effective_dimension": ..., "units": E}."""
  return {"dead_fraction": dead_fraction(activations),
          "effective_dimension": effective_dimension(activations),
          "units": int(np.shape(activations)[-1])}
