"""Builds the compiled kernels: `python -m s2l.kernels` (what `make kernels`
runs). Needs a C++17 compiler ($CXX, default g++) and the installed
TensorFlow; downloads nothing. Exits non-zero, saying why, if the build
fails (s2l then runs its pure-TensorFlow path).

`python -m s2l.kernels --sanitize` (what `make kernels-asan` runs) builds
the AddressSanitizer + UndefinedBehaviorSanitizer library instead, beside the
plain one, and prints the environment that runs s2l against it.
"""

import argparse
import shlex
import subprocess
import sys
from typing import Sequence

from s2l import kernels


def main(argv: Sequence[str] = ()) -> int:
  parser = argparse.ArgumentParser(prog="python -m s2l.kernels")
  parser.add_argument("--sanitize", action="store_true",
                      help="build with -fsanitize=address,undefined into "
                      f"{kernels.SANITIZED_LIBRARY}")
  args = parser.parse_args(argv)
  library = kernels.SANITIZED_LIBRARY if args.sanitize else kernels.LIBRARY
  command = kernels.build_command(library_path=library,
                                  sanitize=args.sanitize)
  print(command, flush=True)
  result = subprocess.run(command, shell=True, check=False)
  if result.returncode:
    if args.sanitize:
      print(f"{library} was not built (exit {result.returncode}).",
            file=sys.stderr)
    else:
      print(f"{library} was not built (exit {result.returncode}); "
            "s2l.ranking will run its pure-TensorFlow path.", file=sys.stderr)
    return result.returncode
  if args.sanitize:
    environment = " ".join(f"{name}={shlex.quote(value)}" for name, value
                           in kernels.sanitized_environment().items())
    print(f"Run s2l against it with: {environment} python ...")
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
