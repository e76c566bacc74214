"""Hard, soft and perturbed ranking operators (paper section 2.2 and appendix A.1).

Conventions shared by every op in this module:

* ``values: [..., n]`` float tensor (float32 or float64). Ops act on the last
  axis and are batched over all leading axes. ``n`` must be known statically.
* Ranks are ``1..n`` in ascending order of the values: the smallest value gets
  rank 1. This is ``y*(θ) = argmax_{y ∈ C} <y, θ>`` where ``C`` is the
  permutahedron, the convex hull of the permutations of ``(1, ..., n)``.
* Non-finite input: a row (the last axis) holding NaN or ±inf gives NaN in
  every entry of that row, for every op here, so a corrupt score can never pass
  for a plausible rank; no gradient flows into such a row. (XLA drops
  ``tf.debugging`` checks, so an error is not an option inside compiled code.)
* Extreme finite input: rows near ±max of their dtype give finite soft ranks
  and sorts, and finite gradients. Soft ranks rebuild θ/ε from its gaps,
  capped where the result no longer depends on them; "l2" soft sorts solve
  such rows scaled down by a power of two; "kl" ones centre them on their
  mid-range.

Soft ranks and sorts follow Blondel, Teboul, Berthet & Djolonga (2020), "Fast
differentiable sorting and ranking": a projection onto the permutahedron,
reduced to isotonic regression. Two implementations give the same values and
gradients (to float64 precision; the tests check it):

* The compiled CPU kernel (s2l/kernels, built by ``make kernels``): per row one
  sort and pool-adjacent-violators, O(n log n), rows in parallel, fused
  forward and backward. ``implementation="auto"`` (the default) takes it
  outside XLA when it is built and no GPU is visible; `rank` uses it too.
* The pure-TensorFlow path, for XLA, GPU and TPU and wherever the kernel is
  missing: an index ``k`` ends a block of the solution iff every run ending at
  ``k`` has a larger block optimum than every run starting after it (the
  knots of the least concave majorant of the cumulative-sum diagram). That
  costs ``O(n²)`` time per row in batched tensor reductions, with no
  data-dependent loop; its memory stays ``O(n)`` per row beyond a bound,
  since rows of runs are examined in chunks (a single chunk up to n = 128).

A log line says once which path runs. The custom gradients use the
closed-form Jacobian of isotonic regression (averaging, or a softmax for
"kl", within each block).

The perturbed ranking follows Berthet et al. (2020), "Learning with
differentiable perturbed optimizers": ``y*_ε(θ) = E[rank(θ + εZ)]`` by
Monte-Carlo, with the perturbed estimator of its Jacobian.
"""

import math
from typing import Optional, Sequence, Tuple, Union

from absl import logging
import numpy as np
import tensorflow as tf
from tensorflow.python.ops import control_flow_util

from s2l import kernels

REGULARIZATIONS = ("l2", "kl")
NOISES = ("normal", "gumbel")
IMPLEMENTATIONS = ("auto", "compiled", "tf")

Seed = Union[None, int, Sequence[int], tf.Tensor]


# ---------------------------------------------------------------------------
# Input handling shared by the public ops.


def _as_values(values, name: str) -> tf.Tensor:
  """Converts `values` to a float tensor with a static, non-empty last axis."""
  values = tf.convert_to_tensor(values)
  if values.dtype not in (tf.float16, tf.bfloat16, tf.float32, tf.float64):
    raise TypeError(
        f"{name}: values must be a floating point tensor (float16, bfloat16,"
        " float32 or float64; half precision is computed in float32),"
        f" got {values.dtype.name}. Cast them first, e.g. tf.cast(x, tf.float32)."
    )
  if values.shape.rank == 0:
    raise ValueError(f"{name}: values must have shape [..., n], got a scalar.")
  n = values.shape[-1]
  if n is None:
    raise ValueError(
        f"{name}: the last axis (n, the number of items to rank) must be known "
        f"statically; got shape {values.shape}. Use tf.ensure_shape to set it.")
  if n == 0:
    raise ValueError(f"{name}: cannot rank an empty last axis (shape "
                     f"{values.shape}).")
  return values


_HALF = (tf.float16, tf.bfloat16)


def _in_float32(op):
  """`op` on half-precision values, computed in float32 (the projections'
  sorts, cumulative sums and ranges are not all defined for float16 and
  bfloat16, and lose too much precision), returned in the input dtype."""
  def run(values, *args, **kwargs):
    values = tf.convert_to_tensor(values)
    if values.dtype in _HALF:
      return tf.cast(op(tf.cast(values, tf.float32), *args, **kwargs),
                     values.dtype)
    return op(values, *args, **kwargs)
  run.__name__, run.__doc__ = op.__name__, op.__doc__
  run.__wrapped__ = op
  return run


def _finite_rows(values: tf.Tensor) -> tf.Tensor:
  """[..., n] -> [..., 1] bool: True where the whole row is finite."""
  return tf.reduce_all(tf.math.is_finite(values), axis=-1, keepdims=True)


def _guard_non_finite(values: tf.Tensor, op):
  """Runs `op` on rows made finite, then sets non-finite rows to NaN.

  Zeroing the bad rows first keeps NaN out of sorts and of the backward pass
  of the good rows; the final `tf.where` gives the bad rows NaN output and a
  zero gradient.
  """
  finite = _finite_rows(values)
  safe = tf.where(finite, values, tf.zeros_like(values))
  out = op(safe)
  nan = tf.constant(float("nan"), dtype=out.dtype)
  return tf.where(finite, out, nan)


def _check_regularization(regularization: str, strength) -> None:
  if regularization not in REGULARIZATIONS:
    raise ValueError(f"regularization must be one of {REGULARIZATIONS}, got "
                     f"{regularization!r}.")
  # Both implementations refuse what the compiled kernel refuses: an
  # infinite strength would give every item the mean rank.
  if isinstance(strength, (int, float)) and not 0 < strength < math.inf:
    raise ValueError("regularization_strength must be > 0 and finite, got "
                     f"{strength!r}.")


def _to_2d(values: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
  """[..., n] -> ([N, n], original shape)."""
  shape = tf.shape(values)
  return tf.reshape(values, [-1, values.shape[-1]]), shape


def _scalar(x, dtype) -> tf.Tensor:
  """A Python number or tensor as `dtype`, without a float32 detour."""
  if isinstance(x, (tf.Tensor, tf.Variable)):
    return tf.cast(x, dtype)
  return tf.constant(x, dtype)


def _descending_ranks(n: int, dtype) -> tf.Tensor:
  """ρ = (n, n-1, ..., 1): [n], the sorted vertex of the permutahedron."""
  return tf.range(n, 0, -1, dtype=dtype)


def _gather_rows(params: tf.Tensor, indices: tf.Tensor) -> tf.Tensor:
  """Row-wise gather: params [N, m] or shared [1, m], indices [N, k] -> [N, k]."""
  if params.shape[0] == 1:
    return tf.gather(params[0], indices)
  return tf.gather(params, indices, batch_dims=1)


def _sum_to_rows_of(grad: tf.Tensor, like: tf.Tensor) -> tf.Tensor:
  """Sums grad [N, n] over rows when `like` was shared as [1, n]."""
  if like.shape[0] == 1:
    return tf.reduce_sum(grad, axis=0, keepdims=True)
  return grad


# ---------------------------------------------------------------------------
# Hard ranks.


# Hard ranks of rows up to this length count comparisons instead of sorting.
_COUNTING_MAX_N = 32


@_in_float32
def rank(values) -> tf.Tensor:
  """Hard ranks, 1..n ascending, ties broken by position (first gets lower).

  Args:
    values: [..., n] float tensor.

  Returns:
    [..., n] tensor of `values.dtype` holding a permutation of 1..n per row
    (NaN rows for non-finite input). Piecewise constant: it has no gradient.
  """
  values = _as_values(values, "rank")
  n = values.shape[-1]
  if _use_compiled("auto", "rank"):
    if values.shape.rank == 2:
      return kernels.rank(values)
    v2d, shape = _to_2d(values)
    return tf.reshape(kernels.rank(v2d), shape)

  def _rank(v):
    if n <= _COUNTING_MAX_N:
      # 1 + #{j: v_j < v_i} + #{j < i: v_j = v_i}: the ranks of a stable
      # sort, from one [..., n, n] comparison, cheaper than two sorts for
      # small n (the pretext sizes).
      smaller = v[..., None, :] < v[..., :, None]
      # True at [i, j] for j < i; numpy, so that importing s2l creates no
      # tensor (multi-worker strategies need an untouched eager context).
      before = np.tri(n, k=-1, dtype=bool)
      tie_before = tf.logical_and(v[..., None, :] == v[..., :, None], before)
      return 1 + tf.reduce_sum(
          tf.cast(tf.logical_or(smaller, tie_before), v.dtype), axis=-1)
    order = tf.argsort(v, axis=-1, stable=True)
    return tf.cast(tf.argsort(order, axis=-1, stable=True) + 1, v.dtype)

  return _guard_non_finite(values, _rank)


# ---------------------------------------------------------------------------
# Projection onto the permutahedron through isotonic regression.


def _run_lengths(starts: tf.Tensor, n: int, dtype) -> tf.Tensor:
  """[c, n]: entry [i, m] = m − starts_i + 1, the length of the run
  starts_i..m (clamped to >= 1 where m < starts_i)."""
  return tf.cast(tf.maximum(tf.range(n)[None, :] - starts[:, None] + 1, 1),
                 dtype)


def _run_logsumexp(x: tf.Tensor, starts: tf.Tensor) -> tf.Tensor:
  """[R, n] sorted descending -> [R, c, n]: entry [i, m] = LSE(x_j..x_m) for
  j = starts_i.

  From suffix log-sum-exps: LSE(x_j..x_m) = S_j + log(1 − e^{S_{m+1} − S_j}).
  Where that difference cancels in floating point the result is clamped to
  its exact bounds [x_j, x_j + log(m − j + 1)] (x_j is the run's maximum).
  """
  n = x.shape[-1]
  suffix = tf.math.cumulative_logsumexp(x, axis=-1, reverse=True)
  tail = tf.concat(
      [suffix[:, 1:],
       tf.fill([tf.shape(x)[0], 1], tf.constant(-float("inf"), x.dtype))],
      axis=-1)
  head = tf.gather(suffix, starts, axis=-1)[:, :, None]
  gap = tf.minimum(tail[:, None, :] - head, 0.0)
  lse = head + tf.math.log(-tf.math.expm1(gap))
  first = tf.gather(x, starts, axis=-1)[:, :, None]
  return tf.clip_by_value(
      lse, first, first + tf.math.log(_run_lengths(starts, n, x.dtype)))


def _run_optima(z: tf.Tensor, w: tf.Tensor, regularization: str,
                starts: tf.Tensor) -> tf.Tensor:
  """[N, c, n]: entry [i, m] (m >= j = starts_i) is the block optimum of the
  run j..m.

  For "l2" the isotonic target is z − w and the optimum its run mean (up to a
  per-row constant, which does not change the blocks); for "kl" it is
  LSE(z_run) − LSE(w_run). Built from 1-D prefix statistics in one broadcast
  pass, so XLA fuses it and no 2-D cumulative sum is needed.
  """
  n = z.shape[-1]
  if regularization == "kl":
    return _run_logsumexp(z, starts) - _run_logsumexp(w, starts)
  target = z - w
  # Centring keeps the prefix sums, hence their differences, accurate.
  target -= tf.reduce_mean(target, axis=-1, keepdims=True)
  prefix = tf.concat([tf.zeros_like(target[:, :1]),
                      tf.cumsum(target, axis=-1)], axis=-1)
  return ((prefix[:, None, 1:] - tf.gather(prefix, starts, axis=-1)[:, :, None])
          / _run_lengths(starts, n, z.dtype))


# Runs are examined in chunks of starts holding at most this many [start,
# end] pairs per row, so the run statistics take O(n) memory per row beyond
# this bound: one chunk (no loop) up to n = 128, 16 starts a chunk at n = 1000
# (16 MB per float32 temporary at batch 256).
_RUNS_PER_CHUNK = 16384


def _run_envelopes(z: tf.Tensor, w: tf.Tensor, regularization: str
                        ) -> Tuple[tf.Tensor, tf.Tensor]:
  """(left, right), each [N, n]: left[m] = min over runs ending at m of their
  block optimum; right[j] = max over runs starting at j."""
  n = z.shape[-1]
  dtype = z.dtype
  big = tf.constant(float("inf"), dtype)
  rows = tf.maximum(tf.shape(z)[0], tf.shape(w)[0])

  def chunk(starts):
    optimum = _run_optima(z, w, regularization, starts)
    exists = starts[:, None] <= tf.range(n)[None, :]  # The run j..m exists.
    left = tf.reduce_min(tf.where(exists, optimum, big), axis=-2)
    right = tf.reduce_max(tf.where(exists, optimum, -big), axis=-1)
    return left, right

  size = max(1, min(n, _RUNS_PER_CHUNK // n))
  if size == n:
    return chunk(tf.range(n))
  count = -(-n // size)

  def body(i, left, rights):
    # The last chunk repeats start n − 1, which changes no minimum or maximum.
    starts = tf.minimum(i * size + tf.range(size), n - 1)
    chunk_left, chunk_right = chunk(starts)
    return i + 1, tf.minimum(left, chunk_left), rights.write(i, chunk_right)

  _, left, rights = tf.while_loop(
      lambda i, *_: i < count, body,
      (tf.constant(0), tf.fill([rows, n], big),
       tf.TensorArray(dtype, size=count, element_shape=[None, size])),
      parallel_iterations=1)
  right = tf.reshape(tf.transpose(rights.stack(), [1, 0, 2]),
                     [rows, count * size])[:, :n]
  return left, right


def _block_bounds(left: tf.Tensor, right: tf.Tensor
                  ) -> Tuple[tf.Tensor, tf.Tensor]:
  """Blocks of decreasing isotonic regression from the runs' optima.

  Args:
    left, right: [N, n] from `_run_envelopes`.

  Returns:
    (start, stop): [N, n] int32 each; item i belongs to block start_i..stop_i-1.
  """
  n = left.shape[-1]
  # A block boundary sits before item k iff left[k-1] > right[k]: point k of
  # the cumulative-sum diagram lies on its least concave majorant. The strict
  # inequality merges exact ties, so blocks are maximal.
  rows = tf.shape(left)[0]
  true = tf.ones([rows, 1], dtype=tf.bool)
  is_boundary = tf.concat([true, left[:, :-1] > right[:, 1:], true], axis=-1)
  positions = tf.range(n + 1)
  # Boundary positions, ascending, padded at the end with n + 1.
  boundaries = tf.sort(tf.where(is_boundary, positions, n + 1), axis=-1)
  block = tf.concat(
      [tf.zeros([rows, 1], tf.int32),
       tf.cumsum(tf.cast(is_boundary[:, 1:n], tf.int32), axis=-1)], axis=-1)
  return _gather_rows(boundaries, block), _gather_rows(boundaries, block + 1)


def _block_sums(x: tf.Tensor, start: tf.Tensor) -> tf.Tensor:
  """Sum of x [N, n] over the block of each item (named by its start), [N, n].

  Segment sums add only the items of one block, so no rounding from other
  blocks leaks in (a cumulative sum would carry it along the row).
  """
  # Dynamic sizes: under some strategies the upstream gradient's static
  # shape is unknown.
  rows, n = tf.shape(start)[0], tf.shape(start)[1]
  segment = start + n * tf.range(rows)[:, None]
  sums = tf.math.unsorted_segment_sum(
      tf.reshape(x, [-1]), tf.reshape(segment, [-1]), rows * n)
  return tf.gather(sums, segment)


def _make_projection(regularization: str):
  """The projection of sorted z onto the permutahedron of sorted w."""

  @tf.custom_gradient
  def project(z: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
    """P(z, w) for z, w: [N, n], each row sorted in descending order.

    Either operand may be [1, n], shared by every row (the ranks ρ of
    soft_rank, ρ/ε of soft_sort): its statistics are then computed once.

    "l2": argmin_{μ ∈ P(w)} ½‖μ − z‖². Block B of the isotonic regression of
      z − w gives μ_i = z_i − mean_B(z) + mean_B(w).
    "kl": the log-KL projection log argmin_{μ ∈ P(e^w)} KL(μ, e^z), whose
      block B gives μ_i = z_i − LSE(z_B) + LSE(w_B).

    Both are computed from offsets to the block's first item, so an item
    alone in its block gets w_i exactly, however large z is. Gradients, with
    ḡ the upstream: "l2": ∂z = ḡ − mean_B(ḡ), ∂w = mean_B(ḡ); "kl":
    ∂z = ḡ − softmax(z_B) Σ_B ḡ, ∂w = softmax(w_B) Σ_B ḡ.
    """
    start, stop = _block_bounds(*_run_envelopes(z, w, regularization))
    w_start = _gather_rows(w, start)
    z_offset = z - _gather_rows(z, start)
    w_offset = w - w_start
    if regularization == "l2":
      size = tf.cast(stop - start, z.dtype)
      z_in_block = z_offset - _block_sums(z_offset, start) / size
      w_block = _block_sums(w_offset, start) / size
    else:  # Offsets are <= 0 (rows sorted descending): exp cannot overflow.
      z_in_block = z_offset - tf.math.log(_block_sums(tf.exp(z_offset), start))
      w_block = tf.math.log(_block_sums(tf.exp(w_offset), start))
    w_in_block = w_offset - w_block
    # = z_in_block − w_in_block + w, without w − w_offset: an offset may
    # overflow to −inf on rows spanning ±max (its exp is then exactly 0).
    primal = z_in_block + w_start + w_block

    def grad(upstream):
      total = _block_sums(upstream, start)
      if regularization == "l2":
        w_grad = total / size
        z_grad = upstream - w_grad
      else:
        z_grad = upstream - tf.exp(z_in_block) * total
        w_grad = tf.exp(w_in_block) * total
      return _sum_to_rows_of(z_grad, z), _sum_to_rows_of(w_grad, w)

    return primal, grad

  return project


_PROJECTIONS = {reg: _make_projection(reg) for reg in REGULARIZATIONS}


def _near_overflow(v: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
  """Rows whose sums could overflow, and the power of two that prevents it.

  Args:
    v: [N, n] finite values.

  Returns:
    (near, factor): [N, 1] bool, True where max |v| > max_float / factor; and
    factor, a Python float 2^k >= 16 n, so that n values of at most
    max_float / factor add up without overflow, with room for differences.
  """
  n = v.shape[-1]
  factor = 2.0 ** (math.ceil(math.log2(n)) + 4)
  limit = v.dtype.max / factor
  return tf.reduce_max(tf.abs(v), axis=-1, keepdims=True) > limit, factor


def _center(v: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
  """Subtracts a row centre: soft ranks ignore it and soft sorts shift by it.

  The centre is the row mean, or, on rows near overflow (whose sum, hence
  mean, could overflow), the mid-range max/2 + min/2, so that v − centre is
  finite for every finite row.
  """
  mean = tf.reduce_mean(v, axis=-1, keepdims=True)
  near, _ = _near_overflow(v)
  mid = (0.5 * tf.reduce_max(v, axis=-1, keepdims=True) +
         0.5 * tf.reduce_min(v, axis=-1, keepdims=True))
  centre = tf.where(near, mid, mean)
  return v - centre, centre


def _gaps_capped(s: tf.Tensor, regularization_strength, cap: float
                 ) -> tf.Tensor:
  """Scores s/ε rebuilt from their gaps, each gap capped at `cap`.

  Args:
    s: [N, n] finite values, each row sorted descending.
    regularization_strength: ε > 0.
    cap: the largest gap kept, in units of s/ε.

  Returns:
    [N, n] z, row-centred, with z_k − z_{k+1} = min((s_k − s_{k+1})/ε, cap).
    Never overflows, whatever s and ε: |z| <= n·cap. Halves keep the gaps of
    rows spanning ±max finite; a gap above the cap (an overflowing one too)
    gets no gradient, which is exact where the result does not depend on it.
  """
  eps = _scalar(regularization_strength, s.dtype)
  half_gap = 0.5 * s[:, :-1] - 0.5 * s[:, 1:]
  # (cap/2)·ε may overflow to inf for a huge ε: the minimum then keeps the gap.
  gap = 2.0 * (tf.minimum(half_gap, (0.5 * cap) * eps) / eps)
  z = -tf.concat([tf.zeros_like(s[:, :1]), tf.cumsum(gap, axis=-1)], axis=-1)
  return z - tf.reduce_mean(z, axis=-1, keepdims=True)


def _sort_descending(x: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
  """[N, n] -> (x sorted descending, the sorting order)."""
  order = tf.argsort(x, axis=-1, direction="DESCENDING", stable=True)
  return _gather_rows(x, order), order


_LOGGED_PATHS = set()


def _log_path(message: str) -> None:
  if message not in _LOGGED_PATHS:
    _LOGGED_PATHS.add(message)
    logging.info("s2l.ranking: rank, soft_rank and soft_sort run %s.", message)


def _in_xla() -> bool:
  return control_flow_util.GraphOrParentsInXlaContext(
      tf.compat.v1.get_default_graph())


@tf.autograph.experimental.do_not_convert
def _use_compiled(implementation: str, name: str) -> bool:
  """Whether `name` runs the compiled CPU kernel (s2l/kernels), and logs,
  once per path and reason, which path runs.

  "auto" takes the kernel when it is built, outside XLA, with no GPU
  visible; otherwise the pure-TF path (XLA, GPU, TPU, and the fallback).
  "compiled" insists on the kernel; "tf" never uses it.
  """
  if implementation not in IMPLEMENTATIONS:
    raise ValueError(f"{name}: implementation must be one of "
                     f"{IMPLEMENTATIONS}, got {implementation!r}.")
  if implementation == "tf":
    return False
  if kernels.library() is None:
    if implementation == "compiled":
      raise RuntimeError(f"{name}: the compiled kernel is unavailable: "
                         f"{kernels.reason()}.")
    _log_path(f"the pure-TensorFlow path: {kernels.reason()}")
    return False
  if _in_xla():
    if implementation == "compiled":
      raise ValueError(f"{name}: the compiled kernel cannot run inside XLA "
                       "(jit_compile); use implementation='auto' or 'tf'.")
    _log_path("the pure-TensorFlow path inside XLA (jit_compile)")
    return False
  if implementation == "auto" and tf.config.list_logical_devices("GPU"):
    _log_path("the pure-TensorFlow path, on the GPU (the compiled kernel is "
              "CPU-only)")
    return False
  _log_path(f"the compiled CPU kernel ({kernels.LIBRARY})")
  return True


def _compiled(values: tf.Tensor, regularization_strength, mode: str,
              regularization: str) -> tf.Tensor:
  """The kernel on [..., n] values, float32 or float64."""
  strength = _scalar(regularization_strength, values.dtype)
  if values.shape.rank == 2:  # No reshapes: at n = 10 each op shows.
    return kernels.soft_rank_sort(values, strength, mode, regularization)
  v2d, shape = _to_2d(values)
  return tf.reshape(
      kernels.soft_rank_sort(v2d, strength, mode, regularization), shape)


@_in_float32
def soft_rank(values, regularization_strength: float = 1.0,
              regularization: str = "l2",
              implementation: str = "auto") -> tf.Tensor:
  """Fast soft ranks (Blondel et al. 2020), ascending, in [1, n].

  r_ε(θ) is the projection of θ/ε onto the permutahedron of ρ = (n, ..., 1)
  (Euclidean for "l2"; the KL projection of e^{θ/ε} for "kl"). It tends to
  `rank(values)` as ε → 0 (for distinct values) and to the mean rank (n+1)/2
  for every item as ε → ∞. Each row sums to n(n+1)/2.

  Args:
    values: [..., n] float tensor θ.
    regularization_strength: ε > 0 (float or scalar tensor).
    regularization: "l2" (quadratic) or "kl" (entropic).
    implementation: "auto" (the compiled CPU kernel when built, outside XLA,
      with no GPU visible; else the pure-TF path), "compiled" or "tf".

  Returns:
    [..., n] soft ranks with exact gradients (in θ and ε).
  """
  values = _as_values(values, "soft_rank")
  _check_regularization(regularization, regularization_strength)
  if _use_compiled(implementation, "soft_rank"):
    return _compiled(values, regularization_strength, "rank", regularization)
  project = _PROJECTIONS[regularization]

  def _soft_rank(v):
    v2d, shape = _to_2d(v)
    n = v.shape[-1]
    sorted_v, order = _sort_descending(v2d)
    # Only differences of θ/ε matter, and a gap above n splits the isotonic
    # problem in two (every target before it exceeds every one after it, for
    # both regularizations), so capping gaps at n changes nothing but keeps
    # every intermediate finite, even where θ/ε itself would overflow.
    s = _gaps_capped(sorted_v, regularization_strength, float(n))
    rho = _descending_ranks(n, v.dtype)
    if regularization == "kl":
      rho = tf.math.log(rho)
    projected = project(s, rho[None])
    if regularization == "kl":
      projected = tf.exp(projected)
    out = _gather_rows(projected, tf.argsort(order, axis=-1, stable=True))
    return tf.reshape(out, shape)

  return _guard_non_finite(values, _soft_rank)


@_in_float32
def soft_sort(values, regularization_strength: float = 1.0,
              regularization: str = "l2",
              implementation: str = "auto") -> tf.Tensor:
  """Fast soft sort (Blondel et al. 2020), ascending.

  The projection of ρ/ε onto the permutahedron of −θ, negated back, which
  gives ascending order. It tends to `tf.sort(values)` as ε → 0 and, with
  "l2", to the row mean for every entry as ε → ∞ (with "kl", to a
  log-mean-exp of −θ, negated).

  Args:
    values: [..., n] float tensor.
    regularization_strength: ε > 0 (float or scalar tensor).
    regularization: "l2" (quadratic) or "kl" (entropic).
    implementation: "auto", "compiled" or "tf", as for `soft_rank`.

  Returns:
    [..., n] softly sorted values with exact gradients (in θ and ε).
  """
  values = _as_values(values, "soft_sort")
  _check_regularization(regularization, regularization_strength)
  if _use_compiled(implementation, "soft_sort"):
    return _compiled(values, regularization_strength, "sort", regularization)
  project = _PROJECTIONS[regularization]

  def _soft_sort(v):
    v2d, shape = _to_2d(v)
    rho = _descending_ranks(v.shape[-1], v.dtype)
    eps = _scalar(regularization_strength, v.dtype)
    scale = None
    if regularization == "l2":
      # "l2" block means are sums: rows near overflow are solved scaled down,
      # soft_sort(θ, ε) = c·soft_sort(θ/c, c·ε), exact for a power of two c
      # (c = 1, bit for bit, on every other row).
      near, factor = _near_overflow(v2d)
      scale = tf.where(near, tf.constant(factor, v.dtype),
                       tf.constant(1.0, v.dtype))
      v2d = v2d / scale
      z = rho[None] / (eps * scale)
    else:
      # "kl" works on offsets within blocks and log-sum-exps, which cannot
      # overflow once centred (see _center).
      z = rho[None] / eps
    centered, centre = _center(v2d)
    # Sorting −θ in descending order gives the ascending sort of θ.
    s, _ = _sort_descending(-centered)
    out = centre - project(z, s)
    if scale is not None:
      out *= scale
    return tf.reshape(out, shape)

  return _guard_non_finite(values, _soft_sort)


# ---------------------------------------------------------------------------
# Perturbed ranks.


def _stateless_seed(seed) -> tf.Tensor:
  seed = tf.convert_to_tensor(seed)
  if seed.shape.rank == 0:
    seed = tf.stack([seed, tf.zeros_like(seed)])
  return tf.cast(seed, tf.int64)


def sample_noise(shape, noise: str = "normal", seed: Seed = None,
                 dtype=tf.float32) -> Tuple[tf.Tensor, tf.Tensor]:
  """Draws perturbation noise Z and ∇ν(Z), the score of its density.

  Args:
    shape: shape of Z.
    noise: "normal" (ν(z) = ½‖z‖², ∇ν = z) or "gumbel" (ν(z) = z + e^{−z},
      ∇ν = 1 − e^{−z}).
    seed: None for the stateful RNG (reproducible under `tf.random.set_seed`,
      new noise at every call), or an int / [2] int tensor for a stateless
      draw: the same seed gives the same noise.
    dtype: float dtype of the noise.

  Returns:
    (z, grad_nu), both of `shape`.
  """
  if noise not in NOISES:
    raise ValueError(f"noise must be one of {NOISES}, got {noise!r}.")
  if noise == "normal":
    if seed is None:
      z = tf.random.normal(shape, dtype=dtype)
    else:
      z = tf.random.stateless_normal(shape, _stateless_seed(seed), dtype=dtype,
                                   alg="philox")
    return z, z
  tiny = tf.experimental.numpy.finfo(dtype.as_numpy_dtype).tiny
  if seed is None:
    u = tf.random.uniform(shape, minval=tiny, maxval=1.0, dtype=dtype)
  else:
    u = tf.random.stateless_uniform(shape, _stateless_seed(seed), minval=tiny,
                                    maxval=1.0, dtype=dtype, alg="philox")
  z = -tf.math.log(-tf.math.log(u))
  return z, 1.0 - tf.exp(-z)


def perturbed_samples(values, epsilon: float = 0.1, num_samples: int = 10,
                      noise: str = "normal", seed: Seed = None):
  """Monte-Carlo samples behind `perturbed_rank` and the Fenchel-Young loss.

  Args:
    values: [..., n] float tensor θ.
    epsilon: ε > 0, the noise scale.
    num_samples: M, the number of Monte-Carlo samples.
    noise: "normal" or "gumbel", see `sample_noise`.
    seed: see `sample_noise`.

  Returns:
    (perturbed, ranks, grad_nu), each [M, ..., n]: θ + εZ_m, rank(θ + εZ_m)
    and ∇ν(Z_m).
  """
  values = _as_values(values, "perturbed_rank")
  if isinstance(epsilon, (int, float)) and not epsilon > 0:
    raise ValueError(f"epsilon must be > 0, got {epsilon!r}.")
  if not isinstance(num_samples, int) or num_samples < 1:
    raise ValueError(f"num_samples must be an int >= 1, got {num_samples!r}.")
  shape = tf.concat([[num_samples], tf.shape(values)], axis=0)
  z, grad_nu = sample_noise(shape, noise, seed, values.dtype)
  perturbed = values[None] + _scalar(epsilon, values.dtype) * z
  return perturbed, rank(perturbed), grad_nu


@_in_float32
def perturbed_rank(values, epsilon: float = 0.1, num_samples: int = 10,
                   noise: str = "normal", seed: Seed = None) -> tf.Tensor:
  """Perturbed ranks E[rank(θ + εZ)] (Berthet et al. 2020), by Monte-Carlo.

  The gradient is the perturbed estimator of the Jacobian,
  J ≈ (1/(εM)) Σ_m rank(θ + εZ_m) ∇ν(Z_m)ᵀ, computed from the same samples as
  the value. The paper uses ε = 0.1, M = 10 and normal noise.

  Args:
    values: [..., n] float tensor θ.
    epsilon: ε > 0, the noise scale.
    num_samples: M, the number of Monte-Carlo samples.
    noise: "normal" or "gumbel".
    seed: None for fresh noise at every call, or an int / [2] int tensor for
      reproducible noise (see `sample_noise`).

  Returns:
    [..., n] perturbed ranks in [1, n], each row summing to n(n+1)/2.
  """
  values = _as_values(values, "perturbed_rank")
  epsilon_t = _scalar(epsilon, values.dtype)

  @tf.custom_gradient
  def _perturbed_rank(theta):
    _, ranks, grad_nu = perturbed_samples(theta, epsilon, num_samples, noise,
                                          seed)

    def grad(upstream):
      weight = tf.reduce_sum(upstream[None] * ranks, axis=-1, keepdims=True)
      weight = tf.where(tf.math.is_nan(weight), tf.zeros_like(weight), weight)
      return tf.reduce_mean(weight * grad_nu, axis=0) / epsilon_t

    return tf.reduce_mean(ranks, axis=0), grad

  return _perturbed_rank(values)
