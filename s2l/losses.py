"""Pretext losses for permutation inversion (paper sections 2.2, 3.1, A.1).

Every loss takes `(y_true, y_pred)` with `y_true: [..., n]` the true ranks 1..n
of the shuffled patches (the label convention of `s2l.ranking`: patch i goes to
position y_true[i] of the original order) and returns one value per row,
`[...]`, which Keras then reduces over the batch. `y_pred` is the network
output: n scores θ for the ranking losses and MSE, L logits for the fixed-set
classification baseline.

Scores in float16 or bfloat16 (a network under mixed precision) are widened
to float32 first: for them every loss computes in, and returns, float32.

Each loss also knows how to read a network output as predicted ranks
(`predicted_ranks`), which is what the upstream metrics compare to y_true.

* `PerturbedFenchelYoungLoss`: "Perturbed F-Y" in the paper.
* `SoftRankLoss`: "Fast Soft Ranking (FSR)", ½‖soft_rank(θ) − y‖².
* `RankMSELoss`: "MSE", regression of the scores on the ranks.
* `FixedPermutationLoss`: "Fixed Permutation", cross-entropy over L classes.
* `ListMLELoss`, `ApproxNDCGLoss`: the listwise losses of tensorflow-ranking,
  extra baselines (ListMLE recomputed stably, see its docstring).
"""

from typing import Dict, Optional, Tuple, Type

import tensorflow as tf
import tensorflow_ranking as tfr

from s2l import checks
from s2l import permutations
from s2l import ranking

_AUTO = tf.keras.losses.Reduction.AUTO
_HALF = (tf.float16, tf.bfloat16)


def _scores(y_pred) -> tf.Tensor:
  """The network output [..., n] as a tensor, float16 and bfloat16 widened to
  float32: under mixed precision the ranking ops and the losses compute in
  float32 (half precision would round ranks above 256 and sums of n terms)."""
  y_pred = tf.convert_to_tensor(y_pred)
  return tf.cast(y_pred, tf.float32) if y_pred.dtype in _HALF else y_pred


class PermutationLoss(tf.keras.losses.Loss):
  """Base class: a loss whose network output can be decoded into ranks.

  Training tells a loss its number of items n, read from the data, with
  `bind(n)` before anything is built; the loss then says how many outputs
  the network needs (`num_outputs`) and, for the fixed-set baseline, which
  permutations the pipeline must draw (`permutation_set`, None for all n!).
  """

  # Set by `register`: config name, table label, paper column (or None).
  registered_name: Optional[str] = None
  label: Optional[str] = None
  column: Optional[int] = None
  num_items: Optional[int] = None
  permutation_set: Optional[permutations.FixedPermutationSet] = None
  # Check at run time that labels are 1-based permutations (`_checked`);
  # training turns it off under XLA, which cannot compile the assertion.
  check_labels: bool = True

  def _checked(self, y_true, y_pred, scores: bool = True) -> tf.Tensor:
    """`y_true` after checking it against `y_pred`.

    Shapes must agree without broadcasting: the same shape for scores, the
    same leading dimensions for logits (`scores=False`). With
    `check_labels`, each row must hold 1..n once (0-based or repeated ranks
    would make the losses meaningless: Perturbed F-Y is unbounded below).

    Raises:
      ValueError: for shapes that disagree where known statically;
        InvalidArgumentError at run time otherwise, and for bad labels.
    """
    y_true, y_pred = tf.convert_to_tensor(y_true), tf.convert_to_tensor(y_pred)
    name = type(self).__name__
    true_shape, pred_shape = y_true.shape, y_pred.shape
    if true_shape.rank is not None and pred_shape.rank is not None:
      compatible = (true_shape.is_compatible_with(pred_shape) if scores else
                    true_shape.rank == pred_shape.rank and
                    true_shape[:-1].is_compatible_with(pred_shape[:-1]))
      if not compatible or true_shape.rank != pred_shape.rank:
        raise ValueError(
            f"{name}: labels of shape {true_shape} do not match network "
            f"outputs of shape {pred_shape}; give one row of n ranks per "
            "output row (no broadcasting).")
    assertions = [tf.debugging.assert_equal(
        tf.shape(y_true)[:-1] if not scores else tf.shape(y_true),
        tf.shape(y_pred)[:-1] if not scores else tf.shape(y_pred),
        message=f"{name}: labels and network outputs differ in shape")]
    if self.check_labels:
      n = tf.shape(y_true)[-1]
      values = tf.sort(tf.cast(y_true, tf.float32), axis=-1)
      expected = tf.cast(tf.range(1, n + 1), tf.float32)
      assertions.append(tf.debugging.Assert(
          tf.reduce_all(tf.equal(values, expected)),
          [f"{name}: labels must be ranks 1..n, each once per row (a "
           "1-based permutation); sorted rows start with", values[..., :5]]))
    with tf.control_dependencies(assertions):
      return tf.identity(y_true)

  def bind(self, num_items: int) -> "PermutationLoss":
    """Sets n, the number of patches; returns the loss.

    Raises:
      ValueError: if the loss was built for another n.
    """
    if self.num_items is not None and self.num_items != num_items:
      raise ValueError(
          f"{type(self).__name__} was built for {self.num_items} items but "
          f"the data gives {num_items} patches; leave num_items unset (the "
          "data tells the loss) or make the slicing agree.")
    self.num_items = num_items
    return self

  @property
  def num_outputs(self) -> int:
    """Outputs the network needs: n scores (L logits for the fixed set)."""
    if self.num_items is None:
      raise ValueError(f"{type(self).__name__}.bind(num_items) first.")
    return self.num_items

  def predicted_ranks(self, y_pred) -> tf.Tensor:
    """Hard ranks predicted by the network output: [..., n] -> [..., n]
    (float32 for half-precision outputs)."""
    return ranking.rank(_scores(y_pred))


# The losses by the names of their configs (gin/losses/<name>.gin), in order
# of declaration: `register` is the one place a loss is declared. Gin
# (s2l.configurables), lookup by name (`get`, `train.loss = 'mse'`), the run
# record (s2l.run_record), the plans and the report's labels (written into
# probe.json by s2l.evaluate) all read it.
REGISTRY: Dict[str, Type["PermutationLoss"]] = {}


def register(name: str, label: str, column: Optional[int] = None):
  """Class decorator declaring a pretext loss, once, for all of s2l.

  Args:
    name: its config name: `train.loss = '<name>'`, gin/losses/<name>.gin,
      the plans' run names.
    label: its name in tables and figures ("Perturbed F-Y").
    column: its place among the paper's table 1 columns (0 first), or None
      for a loss the paper does not compare (listed after them).

  Also registers the class with Keras serialization (package "s2l").

  Raises:
    ValueError: for a name already taken or a class that is not a
      PermutationLoss.
  """
  def declare(cls):
    if not (isinstance(cls, type) and issubclass(cls, PermutationLoss)):
      raise ValueError(f"register({name!r}) decorates {cls!r}, which is not "
                       "a PermutationLoss subclass.")
    if name in REGISTRY:
      raise ValueError(f"loss name {name!r} is taken by "
                       f"{REGISTRY[name].__name__}; pick another.")
    cls.registered_name, cls.label, cls.column = name, label, column
    tf.keras.utils.register_keras_serializable(package="s2l")(cls)
    REGISTRY[name] = cls
    return cls
  return declare


def paper_losses() -> Tuple[str, ...]:
  """Names of the losses the paper compares, in its table 1 column order."""
  named = [(cls.column, name) for name, cls in REGISTRY.items()
           if cls.column is not None]
  return tuple(name for _, name in sorted(named))


def by_class_name(class_name: str) -> Type["PermutationLoss"]:
  """The registered loss class of that `__name__` (the run record's key).

  Raises:
    KeyError: for a class no `register` declared.
  """
  for cls in REGISTRY.values():
    if cls.__name__ == class_name:
      return cls
  raise KeyError(class_name)


@register("perturbed_fenchel_young", "Perturbed F-Y", column=2)
class PerturbedFenchelYoungLoss(PermutationLoss):
  """Fenchel-Young loss of the perturbed ranking (Berthet et al. 2020).

  L(θ; y) = F_ε(θ) + εΩ(y) − <θ, y> with F_ε(θ) = E[max_{y' ∈ C} <y', θ + εZ>].
  For a label y that is a permutation (a vertex of the permutahedron C),
  εΩ(y) = 0, and since E[<y, εZ>] = 0 the Monte-Carlo estimate used here is

    L ≈ (1/M) Σ_m <rank(θ + εZ_m) − y, θ + εZ_m>  ≥ 0.

  Its gradient is exactly (1/M) Σ_m rank(θ + εZ_m) − y = y*_ε(θ) − y, i.e.
  `ranking.perturbed_rank(θ) − y` with the same noise (Danskin's theorem: the
  ranks are the argmax). It is convex in θ and is zero iff every perturbed
  sample ranks like y; in expectation it is zero iff y*_ε(θ) = y.

  Args:
    epsilon: ε > 0, the noise scale (paper: 0.1).
    num_samples: M (paper: 10).
    noise: "normal" or "gumbel".
    seed: None (fresh noise every call, reproducible under
      `tf.random.set_seed`) or an int for the same noise at every call.
  """

  def __init__(self, epsilon: float = 0.1, num_samples: int = 10,
               noise: str = "normal", seed: Optional[int] = None,
               reduction=_AUTO, name: str = "perturbed_fenchel_young"):
    super().__init__(reduction=reduction, name=name)
    if noise not in ranking.NOISES:
      raise ValueError(f"noise must be one of {ranking.NOISES}, got {noise!r}.")
    checks.require("PerturbedFenchelYoungLoss", "epsilon", epsilon,
                   checks.is_number(epsilon) and epsilon > 0, "a number > 0")
    checks.require("PerturbedFenchelYoungLoss", "num_samples", num_samples,
                   checks.is_integer(num_samples, 1), "an integer >= 1")
    self.epsilon = epsilon
    self.num_samples = num_samples
    self.noise = noise
    self.seed = seed

  def call(self, y_true, y_pred):
    theta = _scores(y_pred)
    y = tf.cast(self._checked(y_true, theta), theta.dtype)
    perturbed, ranks, _ = ranking.perturbed_samples(
        theta, self.epsilon, self.num_samples, self.noise, self.seed)
    per_sample = tf.reduce_sum(
        (tf.stop_gradient(ranks) - y[None]) * perturbed, axis=-1)
    return tf.reduce_mean(per_sample, axis=0)

  def get_config(self):
    return {**super().get_config(), "epsilon": self.epsilon,
            "num_samples": self.num_samples, "noise": self.noise,
            "seed": self.seed}


@register("fast_soft_ranking", "Fast Soft Ranking", column=1)
class SoftRankLoss(PermutationLoss):
  """Fast Soft Ranking loss ½‖soft_rank_ε(θ) − y‖² (Blondel et al. 2020).

  Where every item of θ/ε sits in its own block of the projection, the soft
  ranks equal hard ranks and the gradient is zero. For "l2" that happens once
  neighbouring scores differ by more than ε; for "kl" already once they differ
  by more than ε·log(k/(k−1)) between ranks k−1 and k, so "kl" wants a larger
  strength (on a toy sorting task, 5 learns where 1 stalls).

  Args:
    regularization_strength: ε > 0 of `ranking.soft_rank`.
    regularization: "l2" or "kl".
  """

  def __init__(self, regularization_strength: float = 1.0,
               regularization: str = "l2", reduction=_AUTO,
               name: str = "soft_rank"):
    super().__init__(reduction=reduction, name=name)
    if regularization not in ranking.REGULARIZATIONS:
      raise ValueError(f"regularization must be one of "
                       f"{ranking.REGULARIZATIONS}, got {regularization!r}.")
    checks.positive("SoftRankLoss", "regularization_strength",
                    regularization_strength)
    self.regularization_strength = regularization_strength
    self.regularization = regularization

  def call(self, y_true, y_pred):
    theta = _scores(y_pred)
    y_true = self._checked(y_true, theta)
    soft = ranking.soft_rank(theta, self.regularization_strength,
                             self.regularization)
    return 0.5 * tf.reduce_sum(tf.square(soft - tf.cast(y_true, theta.dtype)),
                               axis=-1)

  def get_config(self):
    return {**super().get_config(),
            "regularization_strength": self.regularization_strength,
            "regularization": self.regularization}


@register("mse", "MSE", column=3)
class RankMSELoss(PermutationLoss):
  """Baseline: mean squared error between the raw scores θ and the ranks y.

  The paper's baseline regresses the ranks 1..n themselves (the defaults).
  Two options change its targets, for the ablations of what the targets'
  offset and scale do to the encoder (the predicted ranks, the order of θ,
  do not depend on them):

  Args:
    centered: regress y − (n + 1)/2, the ranks less their mean, so that no
      common shift of the scores is asked for.
    target_scale: s > 0; regress s·y (s·(y − (n + 1)/2) when centred).
  """

  def __init__(self, centered: bool = False, target_scale: float = 1.0,
               reduction=_AUTO, name: str = "rank_mse"):
    super().__init__(reduction=reduction, name=name)
    checks.require("RankMSELoss", "centered", centered,
                   isinstance(centered, bool), "True or False")
    checks.positive("RankMSELoss", "target_scale", target_scale)
    self.centered = centered
    self.target_scale = target_scale

  def call(self, y_true, y_pred):
    theta = _scores(y_pred)
    targets = tf.cast(self._checked(y_true, theta), theta.dtype)
    if self.centered:
      n = tf.cast(tf.shape(theta)[-1], theta.dtype)
      targets -= (n + 1.0) / 2.0
    if self.target_scale != 1.0:
      targets *= self.target_scale
    return tf.reduce_mean(tf.square(theta - targets), axis=-1)

  def get_config(self):
    return {**super().get_config(), "centered": self.centered,
            "target_scale": self.target_scale}


@register("fixed_permutations100", "Fixed Permutation", column=0)
class FixedPermutationLoss(PermutationLoss):
  """Baseline of Noroozi & Favaro (2016): classify among L fixed permutations.

  `y_pred` are L logits; `y_true` are ranks, looked up in the set. A label
  that is not in the set is an error (it means the data pipeline and the loss
  use different sets).

  Args:
    num_items: n, the number of patches; None until training binds it from
      the data (`bind`), which also draws the set.
    num_permutations: L (paper: 100).
    seed: seed of the maximal-Hamming set; the pipeline draws from the same
      set (`permutation_set`).
    random_labels: a control, not the baseline: every example's class is
      drawn uniformly from the set, independently of how its patches were
      shuffled (the true label is still checked against the set), so the
      loss tells the network nothing about its input. What pre-training
      with it changes in the encoder is then the loss's doing, not the
      pretext's. Each call draws new classes, reproducibly under
      `tf.random.set_seed`.
  """

  def __init__(self, num_items: Optional[int] = None,
               num_permutations: int = 100, seed: int = 0,
               random_labels: bool = False, reduction=_AUTO,
               name: str = "fixed_permutation"):
    super().__init__(reduction=reduction, name=name)
    checks.positive("FixedPermutationLoss", "num_permutations",
                    num_permutations, integer=True)
    checks.require("FixedPermutationLoss", "random_labels", random_labels,
                   isinstance(random_labels, bool), "True or False")
    self.num_permutations = num_permutations
    self.seed = seed
    self.random_labels = random_labels
    if num_items is not None:
      self.bind(num_items)

  def bind(self, num_items: int) -> "FixedPermutationLoss":
    super().bind(num_items)
    if self.permutation_set is None:
      self.permutation_set = permutations.FixedPermutationSet.maximal_hamming(
          num_items, self.num_permutations, seed=self.seed)
    return self

  @property
  def num_outputs(self) -> int:
    super().num_outputs  # pylint: disable=pointless-statement (checks bound)
    return self.permutation_set.num_permutations

  def call(self, y_true, y_pred):
    logits = _scores(y_pred)
    y_true = self._checked(y_true, logits, scores=False)
    index = self.permutation_set.index_of(y_true)
    tf.debugging.assert_non_negative(
        index, message=(
            "FixedPermutationLoss: a label is not in the fixed permutation set"
            f" (n={self.num_items}, L={self.num_permutations}, "
            f"seed={self.seed}); draw the labels from the same set."))
    if self.random_labels:
      index = tf.random.uniform(tf.shape(index), 0, self.num_outputs,
                                dtype=index.dtype)
    return tf.keras.losses.sparse_categorical_crossentropy(
        index, logits, from_logits=True)

  def predicted_ranks(self, y_pred) -> tf.Tensor:
    return self.permutation_set.decode(_scores(y_pred))

  def get_config(self):
    return {**super().get_config(), "num_items": self.num_items,
            "num_permutations": self.num_permutations, "seed": self.seed,
            "random_labels": self.random_labels}


class _ListwiseLoss(PermutationLoss):
  """Wraps a tensorflow-ranking listwise loss to take `(ranks, θ)`.

  The true ranks serve as graded relevance: the item of rank n is the most
  relevant and should get the largest score, as in our ascending convention.
  tensorflow-ranking computes in float32 only, so inputs are cast to float32
  and the loss back to the scores' dtype (float32 for half precision).
  """

  _tfr_class = None

  def __init__(self, temperature: float, reduction, name: str):
    super().__init__(reduction=reduction, name=name)
    checks.positive(type(self).__name__, "temperature", temperature)
    self.temperature = temperature
    self._listwise = self._tfr_class(
        reduction=tf.keras.losses.Reduction.NONE, temperature=temperature)

  def call(self, y_true, y_pred):
    theta = _scores(y_pred)
    y_true = self._checked(y_true, theta)
    n = theta.shape[-1]
    labels = tf.reshape(tf.cast(y_true, tf.float32), [-1, n])
    scores = tf.reshape(tf.cast(theta, tf.float32), [-1, n])
    per_list = tf.cast(self._listwise(labels, scores), theta.dtype)
    return tf.reshape(per_list, tf.shape(theta)[:-1])

  def get_config(self):
    return {**super().get_config(), "temperature": self.temperature}


@register("list_mle", "ListMLE")
class ListMLELoss(PermutationLoss):
  """ListMLE: negative Plackett-Luce log-likelihood of the true order.

  With the items ordered from rank n (most relevant) down to rank 1, and
  s = θ / temperature in that order, the loss is

      Σ_i [logsumexp(s_i, ..., s_n) − s_i],

  computed here with a reverse `tf.math.cumulative_logsumexp`, in the scores'
  dtype. It is tensorflow-ranking's ListMLE, but stable: tf-ranking 0.5.5's
  `ListMLELoss` returns −inf with NaN gradients once the scores order the
  list with gaps of about 10 (the likelihood → 1), which made pre-training
  diverge after ~600 steps on the embedded notes.
  """

  def __init__(self, temperature: float = 1.0, reduction=_AUTO,
               name: str = "list_mle"):
    super().__init__(reduction=reduction, name=name)
    checks.positive(type(self).__name__, "temperature", temperature)
    self.temperature = temperature

  def call(self, y_true, y_pred):
    theta = _scores(y_pred)
    ranks = tf.cast(self._checked(y_true, theta), tf.int32)
    # Most relevant (rank n) first; ranks are a permutation of 1..n.
    order = tf.argsort(ranks, axis=-1, direction="DESCENDING", stable=True)
    scores = tf.gather(theta, order, batch_dims=len(theta.shape) - 1)
    scores = scores / tf.cast(self.temperature, theta.dtype)
    tails = tf.math.cumulative_logsumexp(scores, axis=-1, reverse=True)
    return tf.reduce_sum(tails - scores, axis=-1)

  def get_config(self):
    return {**super().get_config(), "temperature": self.temperature}


@register("approx_ndcg", "ApproxNDCG")
class ApproxNDCGLoss(_ListwiseLoss):
  """ApproxNDCG: minus a smooth NDCG, gains 2^rank − 1, in [−1, 0]."""

  _tfr_class = tfr.keras.losses.ApproxNDCGLoss

  def __init__(self, temperature: float = 0.1, reduction=_AUTO,
               name: str = "approx_ndcg"):
    super().__init__(temperature, reduction, name)


# The same mapping under its former name.
BY_NAME = REGISTRY


def get(loss) -> PermutationLoss:
  """A loss given as itself or by name (`BY_NAME`), with default arguments.

  Raises:
    ValueError: for an unknown name or a value that is not a loss, listing
      the names.
  """
  if isinstance(loss, str):
    if loss not in BY_NAME:
      raise ValueError(f"unknown loss {loss!r}; the losses are "
                       f"{', '.join(sorted(BY_NAME))} (or a loss object, "
                       "e.g. train.loss = @SoftRankLoss()).")
    return BY_NAME[loss]()
  if not isinstance(loss, PermutationLoss):
    raise ValueError(f"train.loss must be a loss name ("
                     f"{', '.join(sorted(BY_NAME))}) or a PermutationLoss, "
                     f"got {loss!r}.")
  return loss
