"""The modalities s2l pre-trains on, each one object, declared once.

A `Modality` holds what differs between audio, images and video:
- its default front end (the paper's settings: a log-mel spectrogram,
  128×128 images, 20 frames of 64×64);
- how an example becomes patches and how many there are: audio and images
  are cut by the slicing's grid (`patches.grid_patches`), while a video's
  frames are its patches and the slicing is not used;
- its default probe head (the paper: linear for images, a 3-layer MLP for
  audio and video);
- whether its front end may run inside the model (`train.frontend_placement
  = 'model'`: audio only).

Sources name their modality by a string ("audio"); `get` gives the object.
A new modality is one `register(Modality(...))` here, with its data set and
gin files.
"""

import dataclasses
from typing import Callable, Dict, Optional

import tensorflow as tf

from s2l.data import frontends
from s2l.data import patches as patches_lib

Frontend = Callable[[tf.Tensor], tf.Tensor]


@dataclasses.dataclass(frozen=True)
class Modality:
  """How one kind of input is pre-trained on and probed.

  Attributes:
    name: "audio", "image", "video": what sources call it.
    default_frontend: builds the front end used when a run names none.
    probe_head: the head `s2l.evaluate` probes with unless told otherwise
      ("mlp" or "linear", see `s2l.probe.make_head`).
    frames_are_patches: the front end's frames are the patches (video); the
      slicing's grid is not used, only its `normalize`.
    frontend_in_model: the front end, patches and permutations may run
      inside the model (`model_inputs.PretextInputs`).
  """
  name: str
  default_frontend: Callable[[], Frontend]
  probe_head: str
  frames_are_patches: bool = False
  frontend_in_model: bool = False

  def frontend(self, frontend: Optional[Frontend] = None) -> Frontend:
    """`frontend`, or this modality's default when it is None."""
    return frontend or self.default_frontend()

  def num_patches(self, slicing: patches_lib.Slicing,
                  frontend: Optional[Frontend] = None) -> int:
    """n, the patches of one example: the frames, or the slicing's tiles."""
    if self.frames_are_patches:
      return self.frontend(frontend).num_frames
    return slicing.num_patches

  def make_patches(self, inputs: tf.Tensor, slicing: patches_lib.Slicing,
                   seed=None) -> tf.Tensor:
    """Patches of one example.

    Args:
      inputs: the front end's output: [..., H, W, C] (a spectrogram, an
        image; a batch only without jitter), or [..., T, H, W, C] frames.
      slicing: the grid (for frames, only its `normalize`).
      seed: stateless seed for the jitter.

    Returns:
      [..., n, *patch_shape] float32.
    """
    patches = (tf.convert_to_tensor(inputs) if self.frames_are_patches else
               patches_lib.grid_patches(inputs, slicing, seed))
    return (patches_lib.normalize_patches(patches) if slicing.normalize
            else patches)

  def slicing_description(self, slicing_args: Dict) -> Optional[Dict]:
    """The grid {"nx", "ny"} a run's patches were cut by (from its recorded
    Slicing arguments), None when the slicing is not used."""
    if self.frames_are_patches:
      return None
    return {"nx": slicing_args["nx"], "ny": slicing_args["ny"]}


REGISTRY: Dict[str, Modality] = {}


def register(modality: Modality) -> Modality:
  """Declares a modality; ValueError if its name is taken."""
  if modality.name in REGISTRY:
    raise ValueError(f"modality {modality.name!r} is already registered.")
  REGISTRY[modality.name] = modality
  return modality


def get(name: str) -> Modality:
  """The registered modality `name`; ValueError listing the known ones."""
  if name not in REGISTRY:
    raise ValueError(f"unknown modality {name!r}; the modalities are "
                     f"{', '.join(REGISTRY)}.")
  return REGISTRY[name]


AUDIO = register(Modality("audio", frontends.AudioFrontend, "mlp",
                          frontend_in_model=True))
IMAGE = register(Modality("image", frontends.ImageFrontend, "linear"))
VIDEO = register(Modality("video", frontends.VideoFrontend, "mlp",
                          frames_are_patches=True))
