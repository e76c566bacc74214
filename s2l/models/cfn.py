"""The Context Free Network of the pretext task (paper section 2.3, figure 1).

Noroozi & Favaro (2016): one backbone, AlexNet (Krizhevsky et al. 2012) up to
a per-patch fully connected layer, is applied to every patch with shared
weights, so it cannot use the global structure of the input; the per-patch
features are concatenated and go through two fully connected layers, the
first of which is the embedding that downstream probes read (the paper's
"first aggregate fully connected layer"), the second the output: n scores for
the ranking losses and MSE, or L logits for the fixed-permutation baseline.

AlexNet is adapted to the patch: kernels, strides and pooling windows never
exceed the patch's sides (a frequency band is a few rows high), and `width`
and `depth` scale the network down so that it trains in minutes on a CPU.
"""

import math
from typing import Sequence, Tuple

import tensorflow as tf

# AlexNet's five convolutions: (filters, kernel, stride, max-pool after).
ALEXNET_CONVS = ((96, 11, 4, True), (256, 5, 1, True), (384, 3, 1, False),
                 (384, 3, 1, False), (256, 3, 1, True))
EMBEDDING_LAYER = "embedding"
# The output layer: n scores (L logits for the fixed-set baseline).
SCORES_LAYER = "scores"
# The layers a probe can read (`evaluate.layer`), by name: the embedding
# (fc7, the paper's), or every patch's fc6 features side by side, which the
# embedding is computed from.
PROBED_LAYERS = {"embedding": EMBEDDING_LAYER,
                 "patch_features": "concatenate_patches"}


def _fit(size: int, side: int) -> int:
  """A kernel, stride or window of at most the side it slides over."""
  return max(1, min(size, side))


def alexnet_layers(patch_shape: Sequence[int], width: float = 1.0,
                   depth: int = 5, patch_features: int = 512,
                   dropout: float = 0.0
                   ) -> Tuple[tf.keras.layers.Layer, ...]:
  """AlexNet convolutions and the per-patch dense layer, sized for a patch.

  Args:
    patch_shape: [H, W, C] of one patch.
    width: multiplies every layer's channels (1.0 is AlexNet).
    depth: how many of AlexNet's 5 convolutions to keep (1 to 5).
    patch_features: units of the per-patch dense layer (CFN's fc6: 512),
      also scaled by width.
    dropout: rate of dropout after that layer, in training (AlexNet and the
      CFN: 0.5 after their fully connected layers).

  Returns:
    The layers, in order, to apply to a [batch, H, W, C] tensor.
  """
  if not 1 <= depth <= len(ALEXNET_CONVS):
    raise ValueError(f"depth must be between 1 and {len(ALEXNET_CONVS)}, got "
                     f"{depth}.")
  if width <= 0:
    raise ValueError(f"width must be > 0, got {width}.")
  if not 0.0 <= dropout < 1.0:
    raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
  height, side = int(patch_shape[0]), int(patch_shape[1])
  layers = []
  for index, (filters, kernel, stride, pool) in enumerate(
      ALEXNET_CONVS[:depth], start=1):
    kernel_hw = (_fit(kernel, height), _fit(kernel, side))
    stride_hw = (_fit(stride, height // 2 or 1), _fit(stride, side // 2 or 1))
    layers.append(tf.keras.layers.Conv2D(
        max(1, round(filters * width)), kernel_hw, stride_hw, padding="same",
        activation="relu", name=f"conv{index}"))
    height, side = math.ceil(height / stride_hw[0]), math.ceil(side /
                                                               stride_hw[1])
    if pool and (height > 1 or side > 1):
      window = (_fit(3, height), _fit(3, side))
      strides = (2 if height > 2 else 1, 2 if side > 2 else 1)
      layers.append(tf.keras.layers.MaxPool2D(window, strides, padding="same",
                                              name=f"pool{index}"))
      height, side = math.ceil(height / strides[0]), math.ceil(side /
                                                               strides[1])
  layers += [
      tf.keras.layers.Flatten(name="flatten"),
      tf.keras.layers.Dense(max(1, round(patch_features * width)),
                            activation="relu", name="fc6"),
  ]
  if dropout:
    layers.append(tf.keras.layers.Dropout(dropout, name="fc6_dropout"))
  return tuple(layers)


def context_free_network(num_patches: int, patch_shape: Sequence[int],
                         num_outputs: int, width: float = 1.0,
                         depth: int = 5, embedding_size: int = 4096,
                         patch_features: int = 512,
                         dropout: float = 0.0,
                         name: str = "context_free_network"
                         ) -> tf.keras.Model:
  """Builds the CFN as a functional Keras model.

  Args:
    num_patches: n.
    patch_shape: [H, W, C] of each patch.
    num_outputs: n scores (ranking losses, MSE) or L logits (fixed set).
    width: channel and unit multiplier of the whole network.
    depth: AlexNet convolutions kept (1 to 5).
    embedding_size: units of the embedding layer (CFN's fc7: 4096), scaled
      by width.
    patch_features: units of the per-patch layer (fc6), scaled by width.
    dropout: dropout rate after fc6 and after the embedding, in training.
    name: model name.

  Returns:
    A model mapping patches [B, n, H, W, C] to float32 outputs
    [B, num_outputs] (its other layers follow the Keras dtype policy). Its
    layer `"embedding"` is the representation probed downstream, and its
    layer `"patch_encoder"` the shared backbone.
  """
  patch_shape = tuple(int(d) for d in patch_shape)
  patches = tf.keras.Input((num_patches,) + patch_shape, name="patches")
  encoder = tf.keras.Sequential(
      [tf.keras.Input(patch_shape)] +
      list(alexnet_layers(patch_shape, width, depth, patch_features,
                          dropout)),
      name="patch_encoder")
  # TimeDistributed applies the one encoder, with its weights, to each patch.
  features = tf.keras.layers.TimeDistributed(encoder, name="shared_encoder")(
      patches)
  features = tf.keras.layers.Flatten(name="concatenate_patches")(features)
  embedding = tf.keras.layers.Dense(
      max(1, round(embedding_size * width)), activation="relu",
      name=EMBEDDING_LAYER)(features)
  if dropout:
    embedding = tf.keras.layers.Dropout(dropout, name="embedding_dropout")(
        embedding)
  # float32 whatever the dtype policy (Keras' mixed-precision guidance for
  # the last layer): the ranking ops and losses read these scores.
  outputs = tf.keras.layers.Dense(num_outputs, dtype="float32",
                                  name=SCORES_LAYER)(embedding)
  return tf.keras.Model(patches, outputs, name=name)


def embedding_model(model: tf.keras.Model) -> tf.keras.Model:
  """The encoder of a CFN: patches [B, n, H, W, C] -> embedding [B, E].

  The embedding is float32: a CFN built under a mixed-precision policy
  computes it in bfloat16 or float16, and gets a float32 cast after it
  (layer `"embedding_float32"`), so the probes read float32 from any run.
  """
  embedding = model.get_layer(EMBEDDING_LAYER).output
  if embedding.dtype != tf.float32:
    embedding = tf.keras.layers.Activation(
        "linear", dtype="float32", name=f"{EMBEDDING_LAYER}_float32")(
            embedding)
  return tf.keras.Model(model.inputs, embedding,
                        name=f"{model.name}_encoder")


def probed_model(encoder: tf.keras.Model, layer: str) -> tf.keras.Model:
  """An encoder of `embedding_model` (or its SavedModel, loaded) cut at one
  of `PROBED_LAYERS`: patches [B, n, H, W, C] -> float32 [B, D].

  "embedding" returns `encoder` itself (D = E); "patch_features" its
  concatenated per-patch fc6 features (D = n * F, what the embedding layer
  reads), the same weights.

  Raises:
    ValueError: for a layer not in `PROBED_LAYERS`.
  """
  if layer not in PROBED_LAYERS:
    raise ValueError(f"evaluate.layer must be one of "
                     f"{sorted(PROBED_LAYERS)}, got {layer!r}.")
  if layer == "embedding":
    return encoder
  features = encoder.get_layer(PROBED_LAYERS[layer]).output
  if features.dtype != tf.float32:
    features = tf.keras.layers.Activation(
        "linear", dtype="float32", name=f"{layer}_float32")(features)
  return tf.keras.Model(encoder.inputs, features,
                        name=f"{encoder.name}_{layer}")


def collapse_probe_model(model: tf.keras.Model) -> tf.keras.Model:
  """patches -> {"embedding": [B, E], "patch_features": [B, n, F]}.

  The probed layer and the shared per-patch features (fc6), for
  `callbacks.Collapse`.
  """
  return tf.keras.Model(model.inputs, {
      "embedding": model.get_layer(EMBEDDING_LAYER).output,
      "patch_features": model.get_layer("shared_encoder").output})
