"""The compiled CPU kernels behind `s2l.ranking.soft_rank` and `soft_sort`.

`ranking_ops.cc` beside this file is built into `_ranking_ops.so` by
`python -m s2l.kernels` (which `make kernels` and the README's setup commands
run), against the installed TensorFlow's headers and flags (`tf.sysconfig`),
with no download. When the
library is missing or cannot be loaded, `library()` is None and `reason()`
says why: s2l.ranking then runs its pure-TensorFlow path.
"""

import os
import shlex
from typing import Optional

import tensorflow as tf

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "ranking_ops.cc")
LIBRARY = os.path.join(os.path.dirname(SOURCE), "_ranking_ops.so")

_state = {"loaded": False, "library": None, "reason": None}


def build_command(source: Optional[str] = None,
                  library_path: Optional[str] = None) -> str:
  """The compiler command that builds `source` (default SOURCE) into
  `library_path` (default LIBRARY): $CXX (g++) with tf.sysconfig flags."""
  source = source or SOURCE
  library_path = library_path or LIBRARY
  flags = tf.sysconfig.get_compile_flags() + tf.sysconfig.get_link_flags()
  return " ".join(["${CXX:-g++}", "-O3", "-shared", "-fPIC",
                   shlex.quote(source), "-o", shlex.quote(library_path),
                   *map(shlex.quote, flags)])


# Plain Python, also when called while a function is traced: autograph must
# not try to convert it (it warns about os.path otherwise).
@tf.autograph.experimental.do_not_convert
def library():
  """The loaded op library (ops `s2l_rank`, `s2l_soft_rank_sort[_grad]`),
  or None."""
  if not _state["loaded"]:
    _state["loaded"] = True
    if not os.path.exists(LIBRARY):
      _state["reason"] = (f"{LIBRARY} is not built (run `python -m "
                          "s2l.kernels` or `make kernels`; a C++17 compiler "
                          "is needed)")
    elif os.path.getmtime(LIBRARY) < os.path.getmtime(SOURCE):
      _state["reason"] = (f"{LIBRARY} is older than {SOURCE} (rebuild it: "
                          "`python -m s2l.kernels`)")
    else:
      try:
        _state["library"] = tf.load_op_library(LIBRARY)
      except (tf.errors.NotFoundError, OSError) as error:
        _state["reason"] = (f"{LIBRARY} does not load against this TensorFlow"
                            f" ({str(error).splitlines()[0]}); rebuild it: "
                            "`python -m s2l.kernels`")
  return _state["library"]


def reason() -> Optional[str]:
  """Why `library()` is None; None once it is loaded."""
  library()
  return _state["reason"]


def soft_rank_sort(values: tf.Tensor, strength: tf.Tensor, mode: str,
                   regularization: str) -> tf.Tensor:
  """Soft ranks (mode "rank") or sorts ("sort") of values [N, n], [N, n].

  `strength` is the scalar ε in the dtype of `values` (float32 or float64).
  Differentiable in both, through the fused backward kernel.
  """
  output, _, _ = library().s2l_soft_rank_sort(
      values, strength, mode=mode, regularization=regularization)
  return output


def rank(values: tf.Tensor) -> tf.Tensor:
  """Hard ranks of values [N, n] (float32 or float64), [N, n]; no gradient."""
  return library().s2l_rank(values)


tf.no_gradient("S2lRank")


@tf.RegisterGradient("S2lSoftRankSort")
def _soft_rank_sort_grad(op, grad_output, unused_order, unused_block_start):
  grad_values, grad_strength = library().s2l_soft_rank_sort_grad(
      grad_output, op.inputs[0], op.inputs[1], op.outputs[0], op.outputs[1],
      op.outputs[2], mode=op.get_attr("mode").decode(),
      regularization=op.get_attr("regularization").decode())
  return grad_values, grad_strength
