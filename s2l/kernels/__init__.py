"""The compiled CPU kernels behind `s2l.ranking.soft_rank` and `soft_sort`.

`ranking_ops.cc` beside this file is built into `_ranking_ops.so` by
`python -m s2l.kernels` (which `make kernels` and the README's setup commands
run), against the installed TensorFlow's headers and flags (`tf.sysconfig`),
with no download. When the
library is missing or cannot be loaded, `library()` is None and `reason()`
says why: s2l.ranking then runs its pure-TensorFlow path.

`python -m s2l.kernels --sanitize` (`make kernels-asan`) builds the same
source with AddressSanitizer and UndefinedBehaviorSanitizer into
`_ranking_ops_asan.so`; the environment variable S2L_KERNEL_LIBRARY makes
`library()` load another build, such as that one (`make test-asan` runs the
kernel tests so, with libasan preloaded).
"""

import os
import shlex
import subprocess
from typing import Dict, Optional

import tensorflow as tf

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "ranking_ops.cc")
SANITIZED_LIBRARY = os.path.join(os.path.dirname(SOURCE),
                                 "_ranking_ops_asan.so")
# Read at import: the library a process loads is fixed for its life.
LIBRARY = (os.environ.get("S2L_KERNEL_LIBRARY") or
           os.path.join(os.path.dirname(SOURCE), "_ranking_ops.so"))

# Instead of -O3: frames and line numbers in reports, the kernel run as
# written. UB aborts (no recovery) so that a test fails on it, naming it.
SANITIZE_FLAGS = ("-O1", "-g", "-fsanitize=address,undefined",
                  "-fno-omit-frame-pointer", "-fno-sanitize-recover=all")

_state = {"loaded": False, "library": None, "reason": None}


def build_command(source: Optional[str] = None,
                  library_path: Optional[str] = None,
                  sanitize: bool = False) -> str:
  """The compiler command that builds `source` (default SOURCE) into
  `library_path` (default LIBRARY, or SANITIZED_LIBRARY with `sanitize`):
  $CXX (g++) with tf.sysconfig flags, and SANITIZE_FLAGS with `sanitize`."""
  source = source or SOURCE
  library_path = library_path or (SANITIZED_LIBRARY if sanitize else LIBRARY)
  optimize = list(SANITIZE_FLAGS) if sanitize else ["-O3"]
  flags = tf.sysconfig.get_compile_flags() + tf.sysconfig.get_link_flags()
  return " ".join(["${CXX:-g++}", *optimize, "-shared", "-fPIC",
                   shlex.quote(source), "-o", shlex.quote(library_path),
                   *map(shlex.quote, flags)])


def sanitized_environment() -> Dict[str, str]:
  """Environment variables that run s2l against SANITIZED_LIBRARY.

  libasan must be loaded before every other library, and python is not built
  with it: it is preloaded. libstdc++ is preloaded with it, else ASan's
  interceptor of C++ throws finds no real __cxa_throw at start-up (python
  does not link libstdc++) and aborts at TensorFlow's first exception
  ("CHECK failed: ... real___cxa_throw"). Leaks are not reported: CPython
  and TensorFlow keep memory until exit by design.
  """
  def gcc_file(name):  # The runtime of the compiler the build used.
    return subprocess.run(f"${{CXX:-g++}} -print-file-name={name}",
                          shell=True, capture_output=True, text=True,
                          check=True).stdout.strip()
  return {"S2L_KERNEL_LIBRARY": SANITIZED_LIBRARY,
          "LD_PRELOAD": f"{gcc_file('libasan.so')} {gcc_file('libstdc++.so')}",
          "ASAN_OPTIONS": "detect_leaks=0"}


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
