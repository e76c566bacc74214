r"""Probes a pre-trained encoder, frozen (`s2l.evaluation.evaluate`).

    python -m s2l.evaluate --model_dir=runs/notes \
        [--gin_param='evaluate.num_examples = (500, 1000)']

`--model_dir` may also name the run's exported encoder (`RUN/encoder`). The
run's setting (source, slicing, front end) comes from its record,
`RUN/run.json`; the gin given here configures the probe (`evaluate.*`).
Writes `RUN/probe.json` (or `evaluate.output`) and prints the results.
"""

import json

from absl import app
from absl import flags

from s2l import cli
from s2l import configurables
from s2l import evaluation

cli.define_flags()
flags.adopt_module_key_flags(cli)
FLAGS = flags.FLAGS


def main(argv):
  cli.check_args(argv)
  cli.quiet_libraries()
  model_dir = evaluation.run_dir(FLAGS.model_dir)
  configurables.parse_gin(FLAGS.gin_file, FLAGS.gin_param)
  output = evaluation.evaluate(model_dir)
  print(json.dumps(output["results"], indent=2))


if __name__ == "__main__":
  app.run(main)
