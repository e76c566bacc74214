"""Tests for s2l/ranking.py against independent numpy references."""

import itertools
import logging
import math
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from s2l import ranking

# ---------------------------------------------------------------------------
# Independent references, written for the tests: sequential pool-adjacent-
# violators (PAV) in plain Python, and the projection built on it.


def _lse(x):
  m = np.max(x)
  return m + np.log(np.sum(np.exp(x - m)))


def pav_decreasing(s, w, regularization):
  """argmin_{v1>=...>=vn}: ½‖v − (s − w)‖² ("l2") or Σ e^{s−v} + e^w v ("kl")."""
  blocks = []  # (first index, last index + 1)

  def value(a, b):
    if regularization == "l2":
      return np.mean(s[a:b] - w[a:b])
    return _lse(s[a:b]) - _lse(w[a:b])

  for i in range(len(s)):
    blocks.append((i, i + 1))
    while len(blocks) > 1 and value(*blocks[-2]) <= value(*blocks[-1]):
      (a, _), (_, b) = blocks[-2], blocks[-1]
      blocks[-2:] = [(a, b)]
  out = np.empty(len(s))
  for a, b in blocks:
    out[a:b] = value(a, b)
  return out


def ref_projection(z, w, regularization):
  """Projection of z onto the permutahedron of w (w sorted descending)."""
  order = np.argsort(-z, kind="stable")
  s = z[order]
  primal = s - pav_decreasing(s, w, regularization)
  out = np.empty_like(primal)
  out[order] = primal
  return out


def ref_soft_rank(theta, eps, regularization):
  n = len(theta)
  rho = np.arange(n, 0, -1, dtype=np.float64)
  if regularization == "l2":
    return ref_projection(theta / eps, rho, "l2")
  return np.exp(ref_projection(theta / eps, np.log(rho), "kl"))


def ref_soft_sort(theta, eps, regularization):
  n = len(theta)
  rho = np.arange(n, 0, -1, dtype=np.float64) / eps
  w = np.sort(-theta)[::-1]
  return -(rho - pav_decreasing(rho, w, regularization))


def ref_rank(x):
  return np.argsort(np.argsort(x, kind="stable"), kind="stable") + 1.0


def _rows(fn, x):
  return np.apply_along_axis(fn, -1, x)


RNG = np.random.default_rng(20201)


def _require_kernel():
  """Fails if the kernel is missing where it can be built; skips without a
  C++ compiler."""
  if ranking.kernels.library() is None:
    if shutil.which(os.environ.get("CXX", "g++")) is None:
      pytest.skip("no C++ compiler: the compiled kernel cannot be built")
    pytest.fail(f"the compiled kernel is missing: {ranking.kernels.reason()}")


@pytest.fixture(name="each_path", params=["tf", "compiled"])
def _each_path(request, monkeypatch):
  """Runs a soft-op test on the pure-TF path, then on the compiled kernel
  (which "auto" picks outside XLA on a machine without GPU)."""
  if request.param == "tf":
    monkeypatch.setattr(ranking, "_use_compiled", lambda *_: False)
  else:
    _require_kernel()
  return request.param

# ---------------------------------------------------------------------------
# Hard ranks.


@pytest.mark.usefixtures("each_path")
@pytest.mark.parametrize("shape", [(1,), (2,), (7,), (4, 6), (3, 2, 5),
                                   (3, 32), (2, 33), (2, 100)])
def test_rank_matches_numpy(shape):
  """Paths: the kernel; counting comparisons (n <= 32); two argsorts."""
  x = RNG.normal(size=shape)
  x[..., ::3] = x[..., :1]  # Ties, broken by position.
  for dtype in (np.float32, np.float64):
    np.testing.assert_array_equal(ranking.rank(x.astype(dtype)).numpy(),
                                  _rows(ref_rank, x.astype(dtype)))
    xla = tf.function(ranking.rank, jit_compile=True)(x.astype(dtype))
    np.testing.assert_array_equal(xla.numpy(), _rows(ref_rank, x))


@pytest.mark.usefixtures("each_path")
def test_rank_ties_negatives_and_large_values():
  x = np.array([[2.0, -1.0, 2.0, -1.0], [1e6, 1e6 + 1, -1e6, 1e6 - 1],
                [0.0, -0.0, 0.0, -0.0]])
  np.testing.assert_array_equal(
      ranking.rank(x).numpy(), [[3, 1, 4, 2], [3, 4, 1, 2], [1, 2, 3, 4]])


@pytest.mark.usefixtures("each_path")
def test_rank_keeps_dtype_and_has_no_gradient():
  for dtype in (tf.float32, tf.float64):
    x = tf.constant([[0.3, 0.1]], dtype)
    with tf.GradientTape() as tape:
      tape.watch(x)
      r = ranking.rank(x)
    assert r.dtype == dtype
    assert tape.gradient(r, x) is None


# ---------------------------------------------------------------------------
# Soft ranks and sorts: values.

SOFT_OPS = {"soft_rank": (ranking.soft_rank, ref_soft_rank),
            "soft_sort": (ranking.soft_sort, ref_soft_sort)}


@pytest.mark.usefixtures("each_path")
@pytest.mark.parametrize("op", sorted(SOFT_OPS))
@pytest.mark.parametrize("regularization", ["l2", "kl"])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 10, 33])
def test_soft_ops_match_pav_reference(op, regularization, n):
  fn, ref = SOFT_OPS[op]
  # Integers plus noise at several scales create both merged and lone blocks.
  x = np.round(RNG.normal(size=(16, n)) * 2) + RNG.normal(size=(16, n)) * 0.3
  x[::2, n // 2:] = x[::2, :1]  # Exact ties in every other row.
  for eps in (0.1, 1.0, 10.0):
    got = fn(x, eps, regularization).numpy()
    want = _rows(lambda r: ref(r, eps, regularization), x)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.usefixtures("each_path")
@pytest.mark.parametrize("regularization", ["l2", "kl"])
@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_soft_rank_is_the_projection_onto_the_permutahedron(regularization, n):
  """Optimality over every vertex, with no isotonic regression involved.

  μ = argmin_{μ ∈ P(ρ)} D(μ, z) iff μ ∈ P(ρ) and <∇D(μ), v − μ> >= 0 for every
  vertex v; ∇D = μ − z for l2 and log μ − z for the KL divergence to e^z.
  """
  rho = np.arange(n, 0, -1, dtype=np.float64)
  vertices = np.array(list(itertools.permutations(rho)))
  for _ in range(20):
    theta = RNG.normal(size=n) * RNG.choice([0.3, 1.0, 3.0])
    eps = RNG.choice([0.2, 1.0, 5.0])
    mu = ranking.soft_rank(theta[None], eps, regularization).numpy()[0]
    # Membership of P(ρ): majorisation by ρ.
    np.testing.assert_allclose(mu.sum(), rho.sum(), rtol=1e-12)
    partial = np.cumsum(np.sort(mu)[::-1])
    assert np.all(partial <= np.cumsum(rho) + 1e-9)
    gradient = (mu if regularization == "l2" else np.log(mu)) - theta / eps
    assert np.min((vertices - mu) @ gradient) >= -1e-9


@pytest.mark.usefixtures("each_path")
@pytest.mark.parametrize("regularization", ["l2", "kl"])
def test_soft_rank_limits(regularization):
  x = RNG.normal(size=(8, 6))
  np.testing.assert_allclose(
      ranking.soft_rank(x, 1e-4, regularization).numpy(), _rows(ref_rank, x),
      atol=1e-6)
  np.testing.assert_allclose(
      ranking.soft_rank(x, 1e6, regularization).numpy(), 3.5, atol=1e-4)


@pytest.mark.usefixtures("each_path")
def test_soft_sort_limits():
  x = RNG.normal(size=(8, 6))
  np.testing.assert_allclose(ranking.soft_sort(x, 1e-4).numpy(),
                             np.sort(x, axis=-1), atol=1e-8)
  np.testing.assert_allclose(ranking.soft_sort(x, 1e-4, "kl").numpy(),
                             np.sort(x, axis=-1), atol=1e-8)
  np.testing.assert_allclose(ranking.soft_sort(x, 1e6).numpy(),
                             np.broadcast_to(x.mean(-1, keepdims=True), x.shape),
                             atol=1e-5)


@pytest.mark.usefixtures("each_path")
def test_soft_rank_known_values_n2():
  # The permutahedron of (2, 1) is a segment: the l2 projection of z is
  # 1.5 ± clip((z1 − z2)/2, −½, ½).
  for gap in (-3.0, -0.4, 0.0, 0.25, 0.9, 5.0):
    got = ranking.soft_rank([[gap, 0.0]], 1.0).numpy()[0]
    half = np.clip(gap / 2, -0.5, 0.5)
    np.testing.assert_allclose(got, [1.5 + half, 1.5 - half], atol=1e-7)
  # KL: inside the segment, μ ∝ e^z with μ1 + μ2 = 3.
  got = ranking.soft_rank([[0.1, 0.0]], 1.0, "kl").numpy()[0]
  p = 1 / (1 + math.exp(-0.1))
  np.testing.assert_allclose(got, [3 * p, 3 * (1 - p)], rtol=1e-6)


@pytest.mark.usefixtures("each_path")
@pytest.mark.parametrize("regularization", ["l2", "kl"])
def test_soft_rank_ties_share_a_rank(regularization):
  got = ranking.soft_rank([[1.0, 1.0, -2.0, 1.0]], 1e-3, regularization)
  np.testing.assert_allclose(got.numpy(), [[3.0, 3.0, 1.0, 3.0]], rtol=1e-6)


@pytest.mark.usefixtures("each_path")
@pytest.mark.parametrize("regularization", ["l2", "kl"])
def test_large_magnitudes_in_float32(regularization):
  x = np.array([[1e6, 1e6 + 1, 1e6 - 1, 1e6 + 3],
                [1e6, -1e6, 0.0, 5e5]], np.float32)
  for eps in (1e-3, 0.1):
    got = ranking.soft_rank(x, eps, regularization).numpy()
    np.testing.assert_array_equal(got, [[2, 3, 1, 4], [4, 1, 2, 3]])
  got = ranking.soft_rank(x, 1.0, regularization).numpy()
  want = _rows(lambda r: ref_soft_rank(r.astype(np.float64), 1.0,
                                       regularization), x)
  np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.usefixtures("each_path")
@pytest.mark.parametrize("op", [ranking.soft_rank, ranking.soft_sort])
def test_batch_shapes_equal_row_by_row(op):
  x = RNG.normal(size=(3, 4, 5))
  got = op(x, 0.5).numpy()
  for i, j in itertools.product(range(3), range(4)):
    np.testing.assert_allclose(got[i, j], op(x[i, j][None], 0.5).numpy()[0],
                               rtol=1e-12)


@pytest.mark.usefixtures("each_path")
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
@pytest.mark.parametrize("regularization", ["l2", "kl"])
def test_soft_ops_dtypes(dtype, regularization):
  x = tf.constant(RNG.normal(size=(4, 7)), dtype)
  for op in (ranking.soft_rank, ranking.soft_sort):
    out = op(x, 0.7, regularization)
    assert out.dtype == dtype and out.shape == (4, 7)
  np.testing.assert_allclose(
      ranking.soft_rank(x, 0.7, regularization).numpy().sum(-1), 28.0,
      rtol=1e-5)


# ---------------------------------------------------------------------------
# Soft ranks and sorts: gradients.


def _numerical_jacobian(fn, x, h=1e-6):
  n = x.shape[-1]
  jac = np.zeros((n, n))
  for k in range(n):
    step = np.zeros(n)
    step[k] = h
    jac[:, k] = (fn(x + step) - fn(x - step)) / (2 * h)
  return jac


@pytest.mark.usefixtures("each_path")
@pytest.mark.parametrize("op", sorted(SOFT_OPS))
@pytest.mark.parametrize("regularization", ["l2", "kl"])
def test_gradients_match_finite_differences(op, regularization):
  fn = SOFT_OPS[op][0]
  for _ in range(5):
    x = RNG.normal(size=6)  # Distinct values: the ops are smooth there.
    eps = RNG.choice([0.3, 1.0, 3.0])

    def f(v):
      return fn(v[None], eps, regularization).numpy()[0]

    xt = tf.constant(x[None])
    with tf.GradientTape() as tape:
      tape.watch(xt)
      out = fn(xt, eps, regularization)[0]
    analytic = tape.jacobian(out, xt).numpy()[:, 0, :]
    np.testing.assert_allclose(analytic, _numerical_jacobian(f, x),
                               atol=1e-6)


@pytest.mark.usefixtures("each_path")
@pytest.mark.parametrize("op", sorted(SOFT_OPS))
@pytest.mark.parametrize("regularization", ["l2", "kl"])
def test_compute_gradient(op, regularization):
  fn = SOFT_OPS[op][0]
  # A point of its own, not the shared RNG's next draw (which depends on the
  # order the tests run in): the operators are piecewise smooth, and finite
  # differences across a point where two blocks merge do not match.
  rng = np.random.default_rng(3)
  x = tf.constant(rng.normal(size=(2, 5)))
  theoretical, numerical = tf.test.compute_gradient(
      lambda v: fn(v, 0.5, regularization), [x])
  # Away from a merge: the Jacobian is the same a finite-difference step off
  # (a step across the ones direction: a common shift changes nothing).
  nearby, _ = tf.test.compute_gradient(
      lambda v: fn(v, 0.5, regularization),
      [x + 2e-3 * rng.standard_normal((2, 5))])
  np.testing.assert_allclose(theoretical[0], nearby[0], atol=1e-2)
  np.testing.assert_allclose(theoretical[0], numerical[0], atol=1e-6)


@pytest.mark.usefixtures("each_path")
def test_gradient_is_exact_inside_merged_blocks():
  # At strength 3 these values merge into blocks; the gradient of Σ w·r must
  # be the closed form built from block averages, checked numerically too.
  x = np.array([0.1, 0.2, 2.0, -1.0, 0.15])
  w = np.array([1.0, -2.0, 0.5, 3.0, 1.5])
  xt = tf.constant(x[None])
  with tf.GradientTape() as tape:
    tape.watch(xt)
    loss = tf.reduce_sum(ranking.soft_rank(xt, 3.0) * w)
  numerical = _numerical_jacobian(
      lambda v: ranking.soft_rank(v[None], 3.0).numpy()[0], x).T @ w
  np.testing.assert_allclose(tape.gradient(loss, xt).numpy()[0], numerical,
                             atol=1e-7)


# ---------------------------------------------------------------------------
# Perturbed ranks.


def _normal_cdf(x):
  return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def expected_perturbed_rank(theta, eps, noise):
  """E[rank_i] = 1 + Σ_{j≠i} P(θ_i + εZ_i > θ_j + εZ_j), in closed form."""
  diff = (theta[:, None] - theta[None, :]) / eps
  if noise == "normal":
    prob = _normal_cdf(diff / math.sqrt(2))
  else:  # The difference of two Gumbels is logistic.
    prob = 1 / (1 + np.exp(-diff))
  np.fill_diagonal(prob, 0.0)
  return 1 + prob.sum(axis=1)


def expected_perturbed_jacobian(theta, eps):
  diff = (theta[:, None] - theta[None, :]) / (eps * math.sqrt(2))
  density = np.exp(-diff**2 / 2) / math.sqrt(2 * math.pi) / (eps * math.sqrt(2))
  np.fill_diagonal(density, 0.0)
  return np.diag(density.sum(axis=1)) - density


@pytest.mark.parametrize("noise", ["normal", "gumbel"])
def test_perturbed_rank_is_unbiased(noise):
  theta = np.array([0.3, -0.5, 0.1, 1.2, 0.0])
  got = ranking.perturbed_rank(theta, epsilon=0.5, num_samples=200_000,
                               noise=noise, seed=3).numpy()
  np.testing.assert_allclose(got, expected_perturbed_rank(theta, 0.5, noise),
                             atol=0.01)


def test_perturbed_jacobian_estimator_is_unbiased():
  theta = tf.constant([[0.3, -0.5, 0.1, 1.2]], tf.float64)
  jac = []
  for i in range(4):
    with tf.GradientTape() as tape:
      tape.watch(theta)
      out = ranking.perturbed_rank(theta, 1.0, 400_000, seed=11)[0, i]
    jac.append(tape.gradient(out, theta).numpy()[0])
  np.testing.assert_allclose(
      np.array(jac), expected_perturbed_jacobian(theta.numpy()[0], 1.0),
      atol=0.02)


def test_perturbed_rank_tends_to_hard_rank():
  x = RNG.normal(size=(6, 8))
  np.testing.assert_array_equal(
      ranking.perturbed_rank(x, epsilon=1e-7, seed=0).numpy(),
      _rows(ref_rank, x))
  # And its deviation from the hard rank shrinks with ε.
  errors = [np.abs(ranking.perturbed_rank(x, eps, 2000, seed=0).numpy()
                   - _rows(ref_rank, x)).mean() for eps in (1.0, 0.1, 0.01)]
  assert errors[0] > errors[1] > errors[2]


def test_perturbed_rank_seeds():
  x = RNG.normal(size=(4, 5))
  a = ranking.perturbed_rank(x, 0.5, seed=7).numpy()
  np.testing.assert_array_equal(a, ranking.perturbed_rank(x, 0.5, seed=7))
  assert not np.array_equal(a, ranking.perturbed_rank(x, 0.5, seed=8))
  assert not np.array_equal(ranking.perturbed_rank(x, 0.5).numpy(),
                            ranking.perturbed_rank(x, 0.5).numpy())
  np.testing.assert_allclose(a.sum(-1), 15.0)


def test_perturbed_shapes_and_n1():
  assert ranking.perturbed_rank(RNG.normal(size=(2, 3, 4))).shape == (2, 3, 4)
  np.testing.assert_array_equal(ranking.perturbed_rank([[5.0]]), [[1.0]])
  np.testing.assert_array_equal(ranking.soft_rank([[5.0]], 1.0, "kl"), [[1.0]])
  np.testing.assert_array_equal(ranking.soft_sort([[5.0]]), [[5.0]])


# ---------------------------------------------------------------------------
# Graph mode, XLA, non-finite input and errors.


def test_ops_under_xla_match_eager():
  x = tf.constant(RNG.normal(size=(4, 3, 9)), tf.float32)

  def all_ops(v):
    outs = [ranking.rank(v), ranking.perturbed_rank(v, seed=5)]
    for reg in ("l2", "kl"):
      outs += [ranking.soft_rank(v, 0.5, reg), ranking.soft_sort(v, 0.5, reg)]
    return outs

  def grads(v):
    with tf.GradientTape() as tape:
      tape.watch(v)
      total = sum(tf.reduce_sum(tf.sin(o)) for o in all_ops(v)[1:])
    return tape.gradient(total, v)

  compiled = tf.function(all_ops, jit_compile=True)(x)
  for got, want in zip(compiled, all_ops(x)):
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5,
                               atol=1e-5)
  np.testing.assert_allclose(tf.function(grads, jit_compile=True)(x).numpy(),
                             grads(x).numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.usefixtures("each_path")
def test_unknown_batch_size_in_graph():
  fn = tf.function(lambda v: ranking.soft_rank(v, 1.0),
                   input_signature=[tf.TensorSpec([None, 4], tf.float32)])
  x = RNG.normal(size=(3, 4)).astype(np.float32)
  np.testing.assert_allclose(fn(x).numpy(), ranking.soft_rank(x).numpy(),
                             rtol=1e-6)


@pytest.mark.usefixtures("each_path")
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_rows_become_nan(bad):
  x = tf.constant([[0.5, bad, -1.0], [0.2, 0.1, 0.3]], tf.float32)
  ops = [ranking.rank, ranking.soft_rank, ranking.soft_sort,
         lambda v: ranking.soft_rank(v, 1.0, "kl"),
         lambda v: ranking.perturbed_rank(v, seed=0)]
  for op in ops:
    with tf.GradientTape() as tape:
      tape.watch(x)
      out = op(x)
      total = tf.reduce_sum(out[1])
    assert np.all(np.isnan(out[0].numpy()))
    assert np.all(np.isfinite(out[1].numpy()))
    if op is not ranking.rank:
      grad = tape.gradient(total, x).numpy()
      assert np.all(np.isfinite(grad)) and np.all(grad[0] == 0)


def test_bad_arguments_are_explained():
  with pytest.raises(ValueError, match="regularization must be one of"):
    ranking.soft_rank([[1.0, 2.0]], regularization="l1")
  with pytest.raises(ValueError, match="regularization_strength must be > 0"):
    ranking.soft_sort([[1.0, 2.0]], regularization_strength=0.0)
  for strength in (float("inf"), float("nan")):
    with pytest.raises(ValueError, match="must be > 0 and finite"):
      ranking.soft_rank([[1.0, 2.0]], strength, implementation="tf")
  with pytest.raises(TypeError, match="floating point"):
    ranking.rank([[1, 2]])
  with pytest.raises(ValueError, match="empty last axis"):
    ranking.rank(tf.zeros([2, 0]))
  with pytest.raises(ValueError, match="noise must be one of"):
    ranking.perturbed_rank([[1.0, 2.0]], noise="cauchy")
  with pytest.raises(ValueError, match="epsilon must be > 0"):
    ranking.perturbed_rank([[1.0, 2.0]], epsilon=-1.0)
  with pytest.raises(ValueError, match="known statically"):
    tf.function(ranking.soft_rank, input_signature=[
        tf.TensorSpec([2, None], tf.float32)]).get_concrete_function()


@pytest.mark.usefixtures("each_path")
@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16])
@pytest.mark.parametrize("op", [ranking.soft_rank, ranking.soft_sort])
def test_half_precision_is_computed_in_float32(op, dtype):
  x = tf.constant([[0.3, -1.2, 2.5, 0.1], [1.0, 1.0, -0.5, 4.0]])
  half = tf.cast(x, dtype)
  with tf.GradientTape() as tape:
    tape.watch(half)
    out = op(half, 0.5)
    weighted = tf.reduce_sum(out * tf.cast([1., 2., 3., 4.], dtype))
  grad = tape.gradient(weighted, half)
  assert out.dtype == dtype and grad.dtype == dtype
  assert np.any(tf.cast(grad, tf.float32).numpy() != 0)
  expected = op(tf.cast(half, tf.float32), 0.5)
  np.testing.assert_allclose(tf.cast(out, tf.float32).numpy(),
                             expected.numpy(), rtol=1e-2, atol=1e-2)


# ---------------------------------------------------------------------------
# Extreme finite values: rows near ±max of their dtype.


def _extreme_rows(dtype):
  big = np.finfo(dtype).max
  return np.array([[0.9 * big, -0.9 * big, 1.0, 0.0],
                   [big, big, big, big],
                   [-big, 0.5, -0.5 * big, big],
                   [big, 0.999 * big, 0.998 * big, -big],
                   [0.3, -1.2, 2.5, 0.1]], dtype)  # An ordinary row beside.


def _exact_pav_l2(y):
  """Decreasing isotonic regression of a list of Fractions, exactly."""
  blocks = []  # [total, count]
  for value in y:
    blocks.append([value, 1])
    while (len(blocks) > 1 and
           blocks[-2][0] / blocks[-2][1] <= blocks[-1][0] / blocks[-1][1]):
      total, count = blocks.pop()
      blocks[-1][0] += total
      blocks[-1][1] += count
  return [total / count for total, count in blocks for _ in range(count)]


def exact_soft_l2(op, theta, eps):
  """soft_rank / soft_sort "l2" of a float row, in exact rational arithmetic."""
  from fractions import Fraction
  theta = [Fraction(float(t)) for t in theta]
  eps = Fraction(eps)
  n = len(theta)
  rho = [Fraction(n - i) for i in range(n)]
  if op == "soft_rank":
    order = sorted(range(n), key=lambda i: -theta[i])
    s = [theta[i] / eps for i in order]
    fit = _exact_pav_l2([a - b for a, b in zip(s, rho)])
    out = [None] * n
    for k, i in enumerate(order):
      out[i] = s[k] - fit[k]
    return np.array([float(v) for v in out])
  z = [r / eps for r in rho]
  w = sorted((-t for t in theta), reverse=True)
  fit = _exact_pav_l2([a - b for a, b in zip(z, w)])
  return np.array([float(fit[k] - z[k]) for k in range(n)])


@pytest.mark.usefixtures("each_path")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["soft_rank", "soft_sort"])
def test_extreme_values_l2_match_exact_arithmetic(op, dtype):
  """Rows spanning ±max: finite, and equal to exact rational arithmetic (to
  the dtype's precision at the row's scale: a sum like −0.9·max + 1 + 0.9·max
  cannot be exact in floating point)."""
  x = _extreme_rows(dtype)
  fn = getattr(ranking, op)
  for eps in (1e-3, 1.0, 1e3):
    got = fn(x, eps, "l2").numpy()
    assert got.dtype == dtype and np.all(np.isfinite(got)), got
    for row, out in zip(x, got):
      want = exact_soft_l2(op, row, eps)
      scale = 1.0 if op == "soft_rank" else np.max(np.abs(row))
      np.testing.assert_allclose(
          out, want, rtol=0, atol=8 * len(row) * np.finfo(dtype).eps * scale)


@pytest.mark.usefixtures("each_path")
@pytest.mark.parametrize("regularization", ["l2", "kl"])
@pytest.mark.parametrize("op", [ranking.soft_rank, ranking.soft_sort])
def test_extreme_float32_values_match_float64(op, regularization):
  """The same rows in float64, where they are far from overflow, give the
  reference; the float32 results agree at float32 precision of the row."""
  x = _extreme_rows(np.float32)
  for eps in (1e-3, 1.0, 1e3):
    with tf.GradientTape() as tape:
      xt = tf.constant(x)
      tape.watch(xt)
      got = op(xt, eps, regularization)
      weighted = tf.reduce_sum(got * tf.constant([1.0, 2.0, 3.0, 4.0]))
    grad = tape.gradient(weighted, xt).numpy()
    assert np.all(np.isfinite(got.numpy())) and np.all(np.isfinite(grad))
    want = op(x.astype(np.float64), eps, regularization).numpy()
    scale = 1.0 if op is ranking.soft_rank else np.max(
        np.abs(x.astype(np.float64)), axis=-1, keepdims=True)
    error = np.abs(got.numpy() - want)
    assert np.all(error <= 1e-5 * scale), (eps, got.numpy(), want)


@pytest.mark.usefixtures("each_path")
@pytest.mark.parametrize("regularization", ["l2", "kl"])
def test_extreme_float64_values_are_finite_and_consistent(regularization):
  x = _extreme_rows(np.float64)
  for eps in (1e-3, 1.0, 1e3):
    with tf.GradientTape() as tape:
      xt = tf.constant(x)
      tape.watch(xt)
      ranks = ranking.soft_rank(xt, eps, regularization)
      sorts = ranking.soft_sort(xt, eps, regularization)
      total = tf.reduce_sum(ranks * [1.0, 2.0, 3.0, 4.0]) + tf.reduce_sum(
          sorts * [1e-308, 2e-308, 3e-308, 4e-308])
    grad = tape.gradient(total, xt).numpy()
    ranks, sorts = ranks.numpy(), sorts.numpy()
    assert np.all(np.isfinite(ranks)) and np.all(np.isfinite(sorts))
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(ranks.sum(-1), 10.0, rtol=1e-12)
    # Soft sorts ascend and stay within [min, max] of their row.
    assert np.all(np.diff(sorts, axis=-1) >= 0)
    assert np.all(sorts >= x.min(-1, keepdims=True))
    assert np.all(sorts <= x.max(-1, keepdims=True))
  # Gaps of ~1e308 between distinct values: the hard ranks, ties shared.
  got = ranking.soft_rank(x[:4], 1.0, regularization).numpy()
  np.testing.assert_allclose(got, [[4, 1, 3, 2], [2.5] * 4, [1, 3, 2, 4],
                                   [4, 3, 2, 1]], atol=1e-9)


@pytest.mark.usefixtures("each_path")
def test_extreme_values_known_gradients():
  """soft_rank is flat across huge gaps; an "l2" soft sort of a row whose gaps
  all exceed 1/ε pools it into one block, so every output moves by 1/n with
  every input (rows near max are solved scaled down: the chain rule holds)."""
  big = np.finfo(np.float32).max
  x = tf.constant([[0.9 * big, -0.9 * big, 10.0, 0.0]])
  with tf.GradientTape(persistent=True) as tape:
    tape.watch(x)
    ranks = ranking.soft_rank(x, 1.0)
    sorts = ranking.soft_sort(x, 1.0)
  np.testing.assert_array_equal(tape.jacobian(ranks, x).numpy(), 0.0)
  np.testing.assert_allclose(
      tape.jacobian(sorts, x).numpy().reshape(4, 4), 0.25, rtol=1e-6)


# ---------------------------------------------------------------------------
# The compiled CPU kernel (s2l/kernels) against the pure-TF path.


@pytest.mark.parametrize("op", [ranking.soft_rank, ranking.soft_sort])
@pytest.mark.parametrize("regularization", ["l2", "kl"])
@pytest.mark.parametrize("n", [1, 2, 5, 33, 200])
def test_compiled_and_tf_paths_agree_to_float64_precision(op, regularization,
                                                           n):
  _require_kernel()
  # A generator of its own: the shared RNG's next draw depends on the order
  # xdist runs the tests in.
  rng = np.random.default_rng([n, ("l2", "kl").index(regularization)])
  x = np.round(rng.normal(size=(3, 4, n)) * 2) + rng.normal(size=(3, 4, n))
  x[0, :, n // 2:] = x[0, :, :1]  # Exact ties.
  upstream = tf.constant(rng.normal(size=x.shape))
  results = {}
  for implementation in ("tf", "compiled"):
    for eps in (0.1, 1.0, 10.0):
      values = tf.constant(x)
      strength = tf.constant(eps, tf.float64)
      with tf.GradientTape() as tape:
        tape.watch([values, strength])
        out = op(values, strength, regularization,
                 implementation=implementation)
        total = tf.reduce_sum(out * upstream)
      grads = tape.gradient(total, [values, strength])
      results[implementation, eps] = [out.numpy()] + [g.numpy() for g in grads]
  for eps in (0.1, 1.0, 10.0):
    out, d_values, d_strength = results["compiled", eps]
    want_out, want_d_values, want_d_strength = results["tf", eps]
    np.testing.assert_allclose(out, want_out, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(d_values, want_d_values, rtol=1e-11, atol=1e-11)
    # The strength's gradient sums x.size terms, each with its own rounding
    # (CI once saw 3e-11 apart at n = 200): a tolerance per term summed.
    np.testing.assert_allclose(d_strength, want_d_strength, rtol=1e-11,
                               atol=1e-12 * x.size)


def test_the_path_is_chosen_and_logged(monkeypatch, caplog):
  _require_kernel()
  monkeypatch.setattr(ranking, "_LOGGED_PATHS", set())
  x = tf.constant([[0.3, -1.0, 2.0]])
  # The absl logger's own level: another test may have set its verbosity.
  with caplog.at_level(logging.INFO, logger="absl"):
    eager = ranking.soft_rank(x)
    xla = tf.function(ranking.soft_rank, jit_compile=True)(x)
  np.testing.assert_allclose(eager.numpy(), xla.numpy(), rtol=1e-6)
  assert "rank, soft_rank and soft_sort run the compiled CPU kernel" in caplog.text
  assert "pure-TensorFlow path inside XLA" in caplog.text
  with pytest.raises(ValueError, match="cannot run inside XLA"):
    tf.function(lambda v: ranking.soft_sort(v, implementation="compiled"),
                jit_compile=True)(x)
  with pytest.raises(ValueError, match="implementation must be one of"):
    ranking.soft_rank(x, implementation="c++")
  # Without the library, "auto" falls back, saying why; "compiled" refuses.
  monkeypatch.setattr(ranking.kernels, "_state", {
      "loaded": True, "library": None, "reason": "it is not built"})
  caplog.clear()
  with caplog.at_level(logging.INFO, logger="absl"):
    np.testing.assert_allclose(ranking.soft_rank(x).numpy(), eager.numpy(),
                               rtol=1e-6)
  assert "pure-TensorFlow path: it is not built" in caplog.text
  with pytest.raises(RuntimeError, match="unavailable: it is not built"):
    ranking.soft_sort(x, implementation="compiled")


def test_a_stale_or_missing_kernel_is_named(monkeypatch, tmp_path):
  source = tmp_path / "ranking_ops.cc"
  source.write_text("// newer than the library")
  library = tmp_path / "_ranking_ops.so"
  monkeypatch.setattr(ranking.kernels, "SOURCE", str(source))
  monkeypatch.setattr(ranking.kernels, "LIBRARY", str(library))
  monkeypatch.setattr(ranking.kernels, "_state", {
      "loaded": False, "library": None, "reason": None})
  assert ranking.kernels.library() is None
  assert "is not built (run `python -m s2l.kernels`" in ranking.kernels.reason()
  library.write_bytes(b"not a shared object")
  os.utime(source, (0, 0))
  monkeypatch.setitem(ranking.kernels._state, "loaded", False)
  assert ranking.kernels.library() is None
  assert "does not load against this TensorFlow" in ranking.kernels.reason()
  os.utime(library, (0, 0))
  os.utime(source, None)
  monkeypatch.setitem(ranking.kernels._state, "loaded", False)
  assert ranking.kernels.library() is None
  assert "is older than" in ranking.kernels.reason()


@pytest.mark.parametrize("op", [ranking.soft_rank, ranking.soft_sort])
@pytest.mark.parametrize("regularization", ["l2", "kl"])
def test_runs_in_chunks_equal_runs_at_once(op, regularization, monkeypatch):
  """The pure-TF path bounds its memory by examining runs in chunks of
  starts (a while loop); the blocks, hence values and gradients, are those of
  one pass, eagerly, in a graph with unknown batch size, and under XLA."""
  x = np.round(RNG.normal(size=(6, 11)) * 2) + RNG.normal(size=(6, 11)) * 0.3
  x[::2, 5:] = x[::2, :1]

  def run(values):
    with tf.GradientTape() as tape:
      tape.watch(values)
      out = op(values, 0.7, regularization, implementation="tf")
      total = tf.reduce_sum(out * tf.range(11, dtype=values.dtype))
    return out, tape.gradient(total, values)

  whole = [t.numpy() for t in run(tf.constant(x))]
  monkeypatch.setattr(ranking, "_RUNS_PER_CHUNK", 4 * 11)  # 3 chunks of 4.
  graph = tf.function(run, input_signature=[
      tf.TensorSpec([None, 11], tf.float64)])
  for chunked in (run(tf.constant(x)), graph(tf.constant(x)),
                  tf.function(run, jit_compile=True)(tf.constant(x))):
    for got, want in zip(chunked, whole):
      np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
