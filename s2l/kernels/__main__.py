"""Builds the compiled kernels: `python -m s2l.kernels` (what `make kernels`
runs). Needs a C++17 compiler ($CXX, default g++) and the installed
TensorFlow; downloads nothing. Exits non-zero, saying why, if the build
fails (s2l then runs its pure-TensorFlow path)."""

import subprocess
import sys

from s2l import kernels


def main() -> int:
  command = kernels.build_command()
  print(command, flush=True)
  result = subprocess.run(command, shell=True, check=False)
  if result.returncode:
    print(f"{kernels.LIBRARY} was not built (exit {result.returncode}); "
          "s2l.ranking will run its pure-TensorFlow path.", file=sys.stderr)
  return result.returncode


if __name__ == "__main__":
  sys.exit(main())
