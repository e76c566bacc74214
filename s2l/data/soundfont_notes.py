"""Kept so that `python -m s2l.data.soundfont_notes` still runs: the module is
now `s2l.datasets.soundfont_notes`, whose command line this runs."""

from absl import app

from s2l.datasets import soundfont_notes

if __name__ == "__main__":
  soundfont_notes._define_flags()  # pylint: disable=protected-access
  app.run(soundfont_notes.main)
