"""The audio pretext inputs made inside the model (paper sections 2.1, 2.3).

With `frontend_placement="model"` (`s2l.training.train`), tf.data ships raw
waveforms and one stateless seed per example (`pipeline.pretext_dataset`),
and the `PretextInputs` layer, the first thing the training step runs, turns
them into shuffled patches and their ranks on the accelerator, as leaf-audio
runs its front ends as Keras layers. On 2 CPU cores the host front end
barely outpaces the CPU training step (the issue measured 1.3×), so a GPU
would wait for its data.

It is a placement, not another setting. The layer calls the same functions
as the tf.data path (`frontends.log_spectrogram`,
`modalities.AUDIO.make_patches`, and
`shuffling.shuffle_batch`, which draws each example's permutation exactly as
`shuffling.shuffle` does from the seed the host path would have used), so
the same waveform gives the same log-mel patches up to float rounding, and
the same permutation and ranks. The network, and hence the checkpoints and
the exported encoder, still take patches, so the probes (which cut their
inputs in tf.data) are unchanged.

Only audio: images and video arrive in varying sizes and lengths, which do
not batch before their front ends.
"""

import dataclasses
from typing import Dict, Optional, Tuple

import tensorflow as tf

from s2l import permutations
from s2l.data import frontends
from s2l.data import modalities
from s2l.data import patches as patches_lib
from s2l.data import shuffling

PLACEMENTS = ("data", "model")
# The features of a raw batch, as `pipeline.pretext_dataset` ships them.
AUDIO = "audio"
SEED = "seed"


def check_placement(placement: str, modality: str, frontend=None,
                    slicing: Optional[patches_lib.Slicing] = None) -> None:
  """Refuses a front-end placement that cannot run, before any data is read.

  Args:
    placement: "data" (tf.data, on the host) or "model" (this layer).
    modality: the source's modality.
    frontend: the front end, when known.
    slicing: the slicing, when known.

  Raises:
    ValueError: naming the bad value and what to use instead.
  """
  if placement not in PLACEMENTS:
    raise ValueError(f"frontend_placement must be one of {PLACEMENTS}, got "
                     f"{placement!r}.")
  if placement == "data":
    return
  if not modalities.get(modality).frontend_in_model:
    raise ValueError(
        f"frontend_placement='model' runs the audio front end in the model; "
        f"this source's modality is {modality!r}, whose front end stays in "
        "tf.data: use frontend_placement='data'.")
  if frontend is not None and not isinstance(frontend,
                                             frontends.AudioFrontend):
    raise ValueError(
        f"frontend_placement='model' needs an AudioFrontend, got a "
        f"{type(frontend).__name__}; use frontend_placement='data' for "
        "another front end.")
  if slicing is not None and slicing.jitter:
    raise ValueError(
        "frontend_placement='model' cuts fixed slices: Slicing.jitter, which "
        "draws crops per example, needs frontend_placement='data'.")


class PretextInputs(tf.keras.layers.Layer):
  """Raw audio batches to shuffled log-mel patches and their ranks.

  Args:
    frontend: the log-(mel) spectrogram settings.
    slicing: how spectrograms are cut into patches (no jitter).
    permutation_set: draw permutations from this fixed set (the Fixed
      Permutation baseline) instead of all n! orders.
    **kwargs: Keras layer arguments (the dtype is always float32).
  """

  def __init__(self, frontend: frontends.AudioFrontend,
               slicing: patches_lib.Slicing,
               permutation_set: Optional[
                   permutations.FixedPermutationSet] = None, **kwargs):
    # float32 whatever the global Keras policy: a mixed-precision step must
    # not run the STFT in half precision.
    kwargs["dtype"] = "float32"
    super().__init__(trainable=False, **kwargs)
    check_placement("model", "audio", frontend, slicing)
    self.frontend = frontend
    self.slicing = slicing
    self.permutation_set = permutation_set

  def call(self, inputs: Dict[str, tf.Tensor]
           ) -> Tuple[tf.Tensor, tf.Tensor]:
    """(shuffled patches, ranks) of a raw batch.

    Args:
      inputs: {AUDIO: [B, num_samples] waveforms (float, or int16 PCM),
        SEED: [B, 2] int stateless seeds}.

    Returns:
      (patches [B, n, *patch_shape] float32, ranks [B, n] int32 in 1..n),
      shuffled[b, i] = patches[b, ranks[b, i] − 1] as in `shuffling`.
    """
    spectrograms = frontends.log_spectrogram(inputs[AUDIO], self.frontend)
    patches = modalities.AUDIO.make_patches(spectrograms, self.slicing)
    shuffled = shuffling.shuffle_batch(patches, inputs[SEED],
                                       self.permutation_set)
    return shuffled["patches"], shuffled["ranks"]

  def get_config(self):
    table = self.permutation_set
    return {**super().get_config(),
            "frontend": dataclasses.asdict(self.frontend),
            "slicing": dataclasses.asdict(self.slicing),
            "permutations": None if table is None else
                            table.permutations.tolist()}

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    table = config.pop("permutations")
    config.pop("trainable", None)
    return cls(frontends.AudioFrontend(**config.pop("frontend")),
               patches_lib.Slicing(**config.pop("slicing")),
               None if table is None else
               permutations.FixedPermutationSet(table), **config)
