"""Calls each raw op of s2l/kernels with malformed inputs (and well-formed
controls), one case at a time.

    python tests/kernel_fuzz.py

Run by tests/test_kernels.py in a subprocess, so that a crash (a segfault, a
failed CHECK, a sanitizer report) ends this process and not pytest. Prints
`CASES <count>`, then for each case `START <name>` before the call and
`END <name> | <expected> | <words> | <got> | <message>` after it; a missing
END names the case that crashed. <expected> and <got> are `ok` (the call
returned outputs of the right shapes) or an exception's class name; each of
<words>, separated by " & ", must appear in the error's <message>, the last
naming the op that refused the call.

Every malformed input must give InvalidArgumentError (with a message naming
what is wrong); well-formed controls, empty dimensions included, must run.
"""

import sys

import numpy as np
import tensorflow as tf

from s2l import kernels

INVALID = "InvalidArgumentError"
INT32_MAX = np.iinfo(np.int32).max
INT32_MIN = np.iinfo(np.int32).min


def _forward(values, strength, mode="rank", regularization="l2"):
  values = tf.constant(values)
  outputs = kernels.library().s2l_soft_rank_sort(
      values, tf.constant(strength, values.dtype), mode=mode,
      regularization=regularization)
  for output in outputs:
    assert output.shape == values.shape, (output.shape, values.shape)
  return outputs


def _grad(values, epsilon=1.0, mode="rank", regularization="l2", **replace):
  """The gradient op on the forward op's own outputs for `values` and
  strength `epsilon`, with the inputs named in `replace` (grad_output,
  values, strength, output, order, block_start) replaced."""
  values = np.asarray(values)
  if values.ndim == 2:
    output, order, block_start = (t.numpy() for t in _forward(
        values, epsilon, mode, regularization))
  else:  # Malformed values: the other inputs are made to match them.
    output = np.zeros_like(values)
    order = np.zeros(values.shape, np.int32)
    block_start = np.zeros(values.shape, np.int32)
  inputs = {"grad_output": np.ones_like(values), "values": values,
            "strength": np.asarray(epsilon, values.dtype), "output": output,
            "order": order, "block_start": block_start}
  for name, value in replace.items():
    inputs[name] = np.asarray(
        value, np.int32 if name in ("order", "block_start") else values.dtype)
  grad_values, grad_strength = kernels.library().s2l_soft_rank_sort_grad(
      **{name: tf.constant(value) for name, value in inputs.items()},
      mode=mode, regularization=regularization)
  assert grad_values.shape == values.shape, (grad_values.shape, values.shape)
  assert grad_strength.shape == (), grad_strength.shape
  return grad_values


def _rank(values):
  ranks = kernels.library().s2l_rank(tf.constant(values))
  assert ranks.shape == np.shape(values), (ranks.shape, np.shape(values))
  return ranks


# Rows of 5 with ties, so that the forward op makes blocks of several items.
VALUES = np.array([[0.5, 0.5, 0.5, -1.0, 2.0],
                   [3.0, 1.0, 2.0, 0.0, -1.0],
                   [1.0, 1.0, 1.0, 1.0, 1.0]])


def _with(array, index, value):
  array = np.array(array)
  array[index] = value
  return array


def _grad_sharded(bad_rows):
  """The gradient on a batch big enough for the thread pool (4096 × 8
  values), its order out of range in `bad_rows`."""
  values = np.random.default_rng(0).normal(size=(4096, 8))
  order = _forward(values, 1.0)[1].numpy()
  for row in bad_rows:
    order[row, 3] = 8
  return _grad(values, order=order)


def cases():
  """(name, call, expected class name, words the message must hold)."""
  out = []

  def add(name, call, expected=INVALID, message=""):
    if expected == INVALID:  # Refused by the op the case is named after.
      op = {"forward": "S2lSoftRankSort", "rank": "S2lRank",
            "grad": "S2lSoftRankSortGrad"}[name.split()[0]]
      message = f"{message} & [Op:{op}]"
    out.append((name, call, expected, message))

  # The forward op.
  for dtype in (np.float32, np.float64):
    v = VALUES.astype(dtype)
    tag = np.dtype(dtype).name
    add(f"forward {tag} well-formed", lambda v=v: _forward(v, 1.0), "ok")
    add(f"forward {tag} values rank 1", lambda v=v: _forward(v[0], 1.0),
        message="values must be [N, n]")
    add(f"forward {tag} values rank 3", lambda v=v: _forward(v[None], 1.0),
        message="values must be [N, n]")
    add(f"forward {tag} values scalar", lambda v=v: _forward(v[0, 0], 1.0),
        message="values must be [N, n]")
    for name, strength, message in (
        ("vector [1]", [1.0], "strength must be a scalar"),
        ("vector [2]", [1.0, 2.0], "strength must be a scalar"),
        ("matrix [1, 1]", [[1.0]], "strength must be a scalar"),
        ("empty [0]", np.zeros([0]), "strength must be a scalar"),
        ("0", 0.0, "finite and > 0"), ("-0", -0.0, "finite and > 0"),
        ("-1", -1.0, "finite and > 0"), ("nan", np.nan, "finite and > 0"),
        ("inf", np.inf, "finite and > 0"), ("-inf", -np.inf, "finite and > 0")):
      for mode in ("rank", "sort"):
        add(f"forward {tag} {mode} strength {name}",
            lambda v=v, s=strength, m=mode: _forward(v, s, mode=m),
            message=message)
  for shape in ((0, 5), (3, 0), (0, 0)):
    for mode in ("rank", "sort"):
      for regularization in ("l2", "kl"):
        add(f"forward empty {shape} {mode} {regularization}",
            lambda s=shape, m=mode, r=regularization: _forward(
                np.zeros(s, np.float32), 1.0, m, r), "ok")

  # The hard rank.
  add("rank well-formed", lambda: _rank(VALUES), "ok")
  add("rank values rank 1", lambda: _rank(VALUES[0]),
      message="values must be [N, n]")
  add("rank values rank 3", lambda: _rank(VALUES[None]),
      message="values must be [N, n]")
  add("rank values scalar", lambda: _rank(VALUES[0, 0]),
      message="values must be [N, n]")
  for shape in ((0, 5), (3, 0), (0, 0)):
    add(f"rank empty {shape}", lambda s=shape: _rank(np.zeros(s)), "ok")

  # The gradient: well-formed controls.
  for mode in ("rank", "sort"):
    for regularization in ("l2", "kl"):
      for dtype in (np.float32, np.float64):
        add(f"grad {np.dtype(dtype).name} {mode} {regularization} well-formed",
            lambda m=mode, r=regularization, d=dtype: _grad(
                VALUES.astype(d), 0.7, m, r), "ok")
      for shape in ((0, 5), (3, 0), (0, 0)):
        add(f"grad empty {shape} {mode} {regularization}",
            lambda s=shape, m=mode, r=regularization: _grad(
                np.zeros(s), 1.0, m, r), "ok")
  # A non-finite row gets no gradient; its order and blocks are the identity.
  nan_row = _with(VALUES, (1, 2), np.nan)
  add("grad non-finite row", lambda: _grad(nan_row), "ok")
  add("grad non-finite row, order not a permutation",
      lambda: _grad(nan_row, order=_with(_forward(nan_row, 1.0)[1].numpy(),
                                         (1, 0), 1)),
      message="not a permutation")
  add("grad sharded well-formed", lambda: _grad_sharded([]), "ok")

  # The gradient: strength.
  for name, strength, message in (
      ("vector [1]", [1.0], "strength must be a scalar"),
      ("vector [3]", [1.0, 1.0, 1.0], "strength must be a scalar"),
      ("0", 0.0, "finite and > 0"), ("-1", -1.0, "finite and > 0"),
      ("nan", np.nan, "finite and > 0"), ("inf", np.inf, "finite and > 0")):
    add(f"grad strength {name}",
        lambda s=strength: _grad(VALUES, 1.0, strength=s), message=message)

  # The gradient: ranks and shapes.
  add("grad values rank 1, others alike", lambda: _grad(VALUES[0]),
      message="values must be [N, n]")
  add("grad values rank 3, others alike", lambda: _grad(VALUES[None]),
      message="values must be [N, n]")
  order = _forward(VALUES, 1.0)[1].numpy()
  for name in ("grad_output", "output", "order", "block_start"):
    like = order if name in ("order", "block_start") else VALUES
    for shape_name, bad in (("[3, 4]", like[:, :4]), ("[2, 5]", like[:2]),
                            ("[15]", like.reshape(-1)),
                            ("[5, 3]", like.reshape(5, 3)),
                            ("[1, 3, 5]", like[None])):
      add(f"grad {name} shape {shape_name}",
          lambda n=name, b=bad: _grad(VALUES, **{n: b}),
          message=f"{name} must have the shape of values")

  # The gradient: order.
  for mode, dtype in (("rank", np.float64), ("sort", np.float64),
                      ("rank", np.float32)):
    tag = f"{np.dtype(dtype).name} {mode}"
    v = VALUES.astype(dtype)
    order = _forward(v, 1.0, mode)[1].numpy()
    for name, index, value, message in (
        ("n", (0, 0), 5, "outside [0, n)"),
        ("int32 max", (1, 4), INT32_MAX, "outside [0, n)"),
        ("-1", (0, 2), -1, "outside [0, n)"),
        ("int32 min", (2, 1), INT32_MIN, "outside [0, n)"),
        ("repeated", (1, 1), order[1, 0], "not a permutation")):
      add(f"grad {tag} order {name}",
          lambda v=v, m=mode, o=_with(order, index, value): _grad(
              v, mode=m, order=o), message=message)
    if dtype == np.float32:
      continue
    add(f"grad {mode} order a permutation that does not sort",
        lambda m=mode, o=order[:, ::-1]: _grad(VALUES, mode=m, order=o),
        message="order does not sort values")
    add(f"grad {mode} order of another row",
        lambda m=mode, o=order[[1, 0, 2]]: _grad(VALUES, mode=m, order=o),
        message="order does not sort values")
    add(f"grad {mode} order ties out of index order",
        lambda m=mode, o=_with(order, (2,), [4, 3, 2, 1, 0]): _grad(
            VALUES, mode=m, order=o),
        message="ties by index")
  add("grad order bad in one row of a sharded batch",
      lambda: _grad_sharded([2900]), message="(row 2900, sorted position 3)")
  add("grad order bad in rows 3000 and 1000 of a sharded batch: 1000 is named",
      lambda: _grad_sharded([3000, 1000]),
      message="(row 1000, sorted position 3)")

  # The gradient: block_start (the forward op's: position 0 holds 0, each
  # other position its predecessor's value or its own index).
  starts = _forward(VALUES, 1.0)[2].numpy()
  identity = np.tile(np.arange(5, dtype=np.int32), (3, 1))
  for name, bad in (
      ("n", _with(identity, (0, 4), 5)),
      ("int32 max", _with(identity, (1, 3), INT32_MAX)),
      ("-1", _with(identity, (0, 2), -1)),
      ("int32 min", _with(identity, (2, 1), INT32_MIN)),
      ("first not 0", _with(identity, (1, 0), 1)),
      ("decreasing", _with(identity, (0,), [0, 1, 2, 1, 4])),
      ("a start of no block", _with(identity, (0,), [0, 0, 1, 3, 4])),
      ("ahead of its position", _with(identity, (0,), [0, 2, 2, 3, 4])),
      ("all zero but the last", _with(np.zeros_like(identity), (2, 4), 3))):
    add(f"grad block_start {name}",
        lambda b=bad: _grad(VALUES, block_start=b),
        message="block_start is not a block encoding")
  # Other valid encodings than the forward op's are accepted: they cannot be
  # told apart without redoing the forward pass, and index nothing out of
  # bounds.
  add("grad block_start singletons", lambda: _grad(VALUES, block_start=identity),
      "ok")
  add("grad block_start one block",
      lambda: _grad(VALUES, block_start=np.zeros_like(starts)), "ok")
  return out


def main():
  if kernels.library() is None:
    print(f"NO LIBRARY {kernels.reason()}", flush=True)
    return 3
  all_cases = cases()
  print(f"CASES {len(all_cases)}", flush=True)
  for name, call, expected, words in all_cases:
    print(f"START {name}", flush=True)
    try:
      call()
      got, message = "ok", ""
    except Exception as error:  # pylint: disable=broad-except
      got = type(error).__name__
      message = " ".join(str(error).split())
    print(f"END {name} | {expected} | {words} | {got} | {message}",
          flush=True)
  return 0


if __name__ == "__main__":
  sys.exit(main())
