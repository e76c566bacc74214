"""Tests for s2l/losses.py."""

import math
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_ranking as tfr
import gin

from s2l import configurables
from s2l import losses
from s2l import metrics
from s2l import ranking
from s2l import training  # pylint: disable=unused-import (gin: train)

NONE = tf.keras.losses.Reduction.NONE
RNG = np.random.default_rng(7)


def _random_ranks(shape):
  n = shape[-1]
  flat = np.stack([RNG.permutation(n) + 1
                   for _ in range(int(np.prod(shape[:-1])))])
  return flat.reshape(shape).astype(np.float64)


# ---------------------------------------------------------------------------
# Perturbed Fenchel-Young.


@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 5)])
@pytest.mark.parametrize("noise", ["normal", "gumbel"])
def test_fenchel_young_gradient_is_perturbed_rank_minus_label(shape, noise):
  theta = tf.constant(RNG.normal(size=shape))
  y = _random_ranks(shape)
  loss = losses.PerturbedFenchelYoungLoss(
      epsilon=0.3, num_samples=7, noise=noise, seed=42, reduction=NONE)
  with tf.GradientTape() as tape:
    tape.watch(theta)
    per_example = loss(y, theta)
    total = tf.reduce_sum(per_example)
  assert per_example.shape == shape[:-1]
  expected = ranking.perturbed_rank(theta, 0.3, 7, noise, seed=42) - y
  np.testing.assert_allclose(tape.gradient(total, theta).numpy(),
                             expected.numpy(), atol=1e-12)


def test_fenchel_young_matches_closed_form_for_two_items():
  # n = 2, y = (1, 2): L = ½(θ1 − θ2) + ½ E|D| with D ~ N(θ1 − θ2, 2ε²).
  eps, delta = 0.5, 0.3
  sigma = eps * math.sqrt(2)
  mean_abs = (sigma * math.sqrt(2 / math.pi) * math.exp(-delta**2 /
                                                       (2 * sigma**2)) +
              delta * math.erf(delta / (sigma * math.sqrt(2))))
  expected = 0.5 * delta + 0.5 * mean_abs
  loss = losses.PerturbedFenchelYoungLoss(epsilon=eps, num_samples=400_000,
                                          seed=0, reduction=NONE)
  got = loss(tf.constant([[1.0, 2.0]], tf.float64),
             tf.constant([[delta, 0.0]], tf.float64))
  np.testing.assert_allclose(got.numpy(), [expected], atol=2e-3)


def test_fenchel_young_is_nonnegative_convex_and_zero_at_the_label():
  loss = losses.PerturbedFenchelYoungLoss(seed=3, reduction=NONE)
  y = _random_ranks((16, 8))
  a, b = RNG.normal(size=(2, 16, 8)) * 3
  la, lb, lmid = (loss(y, v).numpy() for v in (a, b, (a + b) / 2))
  assert np.all(la >= 0) and np.all(lb >= 0)
  # Same noise at every call (fixed seed): each sample term is convex in θ.
  assert np.all(lmid <= (la + lb) / 2 + 1e-9)
  # Scores far apart in the label's order: every perturbed sample ranks as y.
  np.testing.assert_array_equal(loss(y, 100.0 * y).numpy(), 0.0)
  assert np.all(loss(y, -100.0 * y).numpy() > 0)


# ---------------------------------------------------------------------------
# Fast soft ranking, MSE.


def test_soft_rank_loss_values_for_two_items():
  # soft_rank([g, 0]) with ε = 1 is 1.5 ± clip(g/2, ±½) (test_ranking).
  loss = losses.SoftRankLoss(reduction=NONE)
  got = loss(tf.constant([[2.0, 1.0], [1.0, 2.0]]),
             tf.constant([[0.4, 0.0], [0.4, 0.0]])).numpy()
  np.testing.assert_allclose(got, [0.5 * 2 * 0.3**2, 0.5 * 2 * 0.7**2],
                             rtol=1e-6)


@pytest.mark.parametrize("regularization", ["l2", "kl"])
def test_soft_rank_loss_gradient(regularization):
  loss = losses.SoftRankLoss(0.5, regularization)
  y = tf.constant(_random_ranks((3, 5)))
  theta = tf.constant(RNG.normal(size=(3, 5)))
  theoretical, numerical = tf.test.compute_gradient(lambda t: loss(y, t),
                                                    [theta], delta=1e-6)
  np.testing.assert_allclose(theoretical[0], numerical[0], atol=1e-6)


def test_rank_mse_loss_values():
  loss = losses.RankMSELoss(reduction=NONE)
  got = loss(tf.constant([[1.0, 2.0, 3.0]]), tf.constant([[1.0, 0.0, 5.0]]))
  np.testing.assert_allclose(got.numpy(), [(0 + 4 + 4) / 3])


def test_rank_mse_centred_and_scaled_targets():
  y = tf.constant([[1.0, 2.0, 3.0], [3.0, 1.0, 2.0]])
  theta = tf.constant([[1.0, 0.0, 5.0], [0.5, -1.0, 0.0]])
  centred = losses.RankMSELoss(centered=True, reduction=NONE)
  # Targets y − 2: (−1, 0, 1) and (1, −1, 0).
  np.testing.assert_allclose(centred(y, theta).numpy(),
                             [(4 + 0 + 16) / 3, (0.25 + 0 + 0) / 3])
  scaled = losses.RankMSELoss(centered=True, target_scale=0.5,
                              reduction=NONE)
  # Targets (y − 2)/2: (−0.5, 0, 0.5) and (0.5, −0.5, 0).
  np.testing.assert_allclose(scaled(y, theta).numpy(),
                             [(2.25 + 0 + 20.25) / 3, (0 + 0.25 + 0) / 3])
  # The scale alone, uncentred: targets 0.5·y.
  np.testing.assert_allclose(
      losses.RankMSELoss(target_scale=0.5, reduction=NONE)(
          y[:1], theta[:1]).numpy(), [(0.25 + 1 + 12.25) / 3])
  # A score vector with the targets' offset removed scores 0 when centred.
  np.testing.assert_allclose(centred(y, y - 2.0).numpy(), [0.0, 0.0])
  assert scaled.get_config()["centered"] is True
  assert scaled.get_config()["target_scale"] == 0.5
  with pytest.raises(ValueError, match="RankMSELoss.centered must be True or "
                     "False"):
    losses.RankMSELoss(centered=1)
  with pytest.raises(ValueError, match="RankMSELoss.target_scale must be a "
                     "positive number"):
    losses.RankMSELoss(target_scale=0)


# ---------------------------------------------------------------------------
# Fixed permutations.


def test_fixed_permutation_loss_is_cross_entropy_over_the_set():
  loss = losses.FixedPermutationLoss(num_items=4, num_permutations=10,
                                     seed=1, reduction=NONE)
  table = loss.permutation_set.permutations
  classes = np.array([3, 0, 9])
  logits = RNG.normal(size=(3, 10))
  got = loss(table[classes], logits).numpy()
  log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  np.testing.assert_allclose(got, -log_softmax[np.arange(3), classes],
                             rtol=1e-6)
  np.testing.assert_array_equal(
      loss.predicted_ranks(np.eye(10)[classes] * 5.0).numpy(), table[classes])


def test_fixed_permutation_loss_rejects_labels_outside_the_set():
  loss = losses.FixedPermutationLoss(num_items=5, num_permutations=3, seed=0)
  members = {tuple(p) for p in loss.permutation_set.permutations}
  outsider = next(p for p in (tuple(RNG.permutation(5) + 1)
                              for _ in range(100)) if p not in members)
  with pytest.raises(tf.errors.InvalidArgumentError, match="not in the fixed"):
    loss(np.array([outsider]), np.zeros((1, 3)))


def test_fixed_permutation_random_labels_ignore_the_input_order():
  # The control draws each row's class uniformly from the set, whatever its
  # true order: over many copies of one row whose logits name its true class
  # with certainty, the loss is that of a uniform class, not ~0, and the
  # mean gradient on the logits is softmax - 1/L (true labels: softmax -
  # one_hot).
  tf.random.set_seed(0)
  loss = losses.FixedPermutationLoss(num_items=4, num_permutations=5, seed=1,
                                     random_labels=True, reduction=NONE)
  assert loss.get_config()["random_labels"] is True
  table = loss.permutation_set.permutations
  rows = 20000
  logits = tf.constant(np.tile(np.eye(5)[2] * 20.0, (rows, 1)), tf.float32)
  labels = np.tile(table[2], (rows, 1))
  with tf.GradientTape() as tape:
    tape.watch(logits)
    values = loss(labels, logits)
  mean_grad = tape.gradient(values, logits).numpy().mean(0)
  softmax = tf.nn.softmax(logits[0]).numpy()
  np.testing.assert_allclose(mean_grad, softmax - 0.2, atol=0.02)
  # 4 of 5 draws miss the named class and cost ~20 nats each.
  assert 15.0 < float(tf.reduce_mean(values)) < 17.0
  true_labels = losses.FixedPermutationLoss(num_items=4, num_permutations=5,
                                            seed=1, reduction=NONE)
  assert float(tf.reduce_max(true_labels(labels[:10], logits[:10]))) < 1e-6
  # Labels outside the set are still an error.
  members = {tuple(p) for p in table}
  outsider = next(p for p in (tuple(RNG.permutation(4) + 1)
                              for _ in range(100)) if p not in members)
  with pytest.raises(tf.errors.InvalidArgumentError, match="not in the fixed"):
    loss(np.array([outsider]), np.zeros((1, 5)))
  with pytest.raises(ValueError, match="random_labels must be True or False"):
    losses.FixedPermutationLoss(random_labels=1)


def test_losses_by_name_and_bad_arguments_at_construction():
  assert isinstance(losses.get("fast_soft_ranking"), losses.SoftRankLoss)
  assert isinstance(losses.get("fixed_permutations100"),
                    losses.FixedPermutationLoss)
  mse = losses.RankMSELoss()
  assert losses.get(mse) is mse
  with pytest.raises(ValueError, match="unknown loss 'fsr'; the losses are "
                     "approx_ndcg, fast_soft_ranking"):
    losses.get("fsr")
  with pytest.raises(ValueError, match="must be a loss name"):
    losses.get(3)
  with pytest.raises(ValueError, match="epsilon must be a number > 0, got 0"):
    losses.PerturbedFenchelYoungLoss(epsilon=0)
  with pytest.raises(ValueError, match="num_samples must be an integer"):
    losses.PerturbedFenchelYoungLoss(num_samples=0)
  with pytest.raises(ValueError, match="SoftRankLoss.regularization_strength "
                     "must be a positive number, got -1"):
    losses.SoftRankLoss(regularization_strength=-1)
  with pytest.raises(ValueError, match="ListMLELoss.temperature"):
    losses.ListMLELoss(temperature=0)
  with pytest.raises(ValueError, match="num_permutations must be a positive "
                     "integer"):
    losses.FixedPermutationLoss(num_permutations=0)


def test_losses_learn_their_size_from_the_data():
  ranking_loss = losses.PerturbedFenchelYoungLoss()
  with pytest.raises(ValueError, match="bind"):
    ranking_loss.num_outputs  # pylint: disable=pointless-statement
  assert ranking_loss.bind(7) is ranking_loss
  assert ranking_loss.num_outputs == 7 and ranking_loss.permutation_set is None
  fixed = losses.FixedPermutationLoss(num_permutations=10, seed=1)
  assert fixed.permutation_set is None
  fixed.bind(4)
  assert fixed.num_outputs == 10
  assert fixed.permutation_set.permutations.shape == (10, 4)
  # The same set as one built for 4 items up front.
  np.testing.assert_array_equal(
      fixed.permutation_set.permutations,
      losses.FixedPermutationLoss(num_items=4, num_permutations=10,
                                  seed=1).permutation_set.permutations)
  with pytest.raises(ValueError, match="built for 4 items but the data "
                     "gives 5 patches"):
    fixed.bind(5)


# ---------------------------------------------------------------------------
# Listwise losses (tensorflow-ranking's, ListMLE re-derived to stay finite).


def test_list_mle_is_the_plackett_luce_likelihood():
  y = _random_ranks((5, 6))
  theta = RNG.normal(size=(5, 6))
  got = losses.ListMLELoss(reduction=NONE)(y, theta).numpy()
  want = []
  for labels, scores in zip(y, theta):
    ordered = scores[np.argsort(-labels)]  # rank n first, the most relevant.
    tails = [np.log(np.exp(ordered[i:]).sum()) for i in range(len(ordered))]
    want.append(np.sum(np.array(tails) - ordered))
  np.testing.assert_allclose(got, want, rtol=1e-5)


def test_list_mle_matches_tensorflow_ranking_and_stays_finite():
  y = _random_ranks((4, 8)).astype(np.float32)
  theta = RNG.normal(size=(4, 8)).astype(np.float32)
  ours = losses.ListMLELoss(reduction=NONE)
  reference = tfr.keras.losses.ListMLELoss(
      reduction=tf.keras.losses.Reduction.NONE)
  np.testing.assert_allclose(ours(y, theta).numpy(),
                             reference(y, theta).numpy()[:, 0], rtol=1e-5)
  # Confidently right scores: tf-ranking 0.5.5 gives -inf and NaN gradients
  # here (it made pre-training diverge); the likelihood is 1, the loss 0.
  for scale in (10.0, 1e3):
    right = tf.Variable(y * scale)
    with tf.GradientTape() as tape:
      value = ours(y, right)
    assert np.all(np.isfinite(tape.gradient(value, right).numpy()))
    np.testing.assert_allclose(value.numpy(), 0.0, atol=1e-3)


def test_list_mle_gradient_matches_finite_differences():
  y = _random_ranks((3, 5))
  theta = tf.constant(RNG.normal(size=(3, 5)))
  loss = losses.ListMLELoss(temperature=0.5, reduction=NONE)
  theoretical, numerical = tf.test.compute_gradient(
      lambda t: loss(y, t), [theta])
  np.testing.assert_allclose(theoretical[0], numerical[0], atol=1e-6)


@pytest.mark.parametrize("cls", [losses.ListMLELoss, losses.ApproxNDCGLoss])
def test_listwise_losses_prefer_the_true_order_and_keep_shape(cls):
  loss = cls(reduction=NONE)
  y = _random_ranks((2, 3, 7))
  right, wrong = loss(y, y).numpy(), loss(y, -y).numpy()
  assert right.shape == (2, 3)
  assert np.all(right < wrong)


# ---------------------------------------------------------------------------
# Keras integration.

ALL_LOSSES = {
    "fenchel_young": lambda n: losses.PerturbedFenchelYoungLoss(),
    "soft_rank_l2": lambda n: losses.SoftRankLoss(),
    # KL soft ranks live on a log scale: at strength 1 they saturate (every
    # block a singleton, zero gradient) once score gaps pass log(n/(n-1)),
    # and this toy model stalls there; strength 5 keeps them soft.
    "soft_rank_kl": lambda n: losses.SoftRankLoss(5.0, regularization="kl"),
    "mse": lambda n: losses.RankMSELoss(),
    "fixed": lambda n: losses.FixedPermutationLoss(n, num_permutations=20),
    "list_mle": lambda n: losses.ListMLELoss(),
    "approx_ndcg": lambda n: losses.ApproxNDCGLoss(),
}


def _sorting_task(loss, n, size, rng):
  """Noisy copies of the true ranks: the model must learn to read them."""
  if isinstance(loss, losses.FixedPermutationLoss):
    table = loss.permutation_set.permutations
    y = table[rng.integers(len(table), size=size)].astype(np.float32)
  else:
    y = np.argsort(rng.random((size, n)), axis=-1).astype(np.float32) + 1
  x = y + rng.normal(size=(size, n)).astype(np.float32) * 0.1
  return x, y


@pytest.mark.parametrize("name", sorted(ALL_LOSSES))
def test_model_fit_learns_to_rank(name):
  tf.keras.utils.set_random_seed(0)
  n = 5
  loss = ALL_LOSSES[name](n)
  outputs = (loss.permutation_set.num_permutations
             if isinstance(loss, losses.FixedPermutationLoss) else n)
  model = tf.keras.Sequential([
      tf.keras.layers.Dense(32, activation="relu", input_shape=(n,)),
      tf.keras.layers.Dense(outputs)])
  model.compile(tf.keras.optimizers.Adam(0.01), loss=loss,
                jit_compile=name in ("fenchel_young", "soft_rank_l2"))
  rng = np.random.default_rng(0)
  x, y = _sorting_task(loss, n, 512, rng)
  before = model.evaluate(x, y, verbose=0)
  model.fit(x, y, epochs=15, batch_size=32, verbose=0)
  after = model.evaluate(x, y, verbose=0)
  assert after < before
  x_test, y_test = _sorting_task(loss, n, 256, rng)
  predicted = loss.predicted_ranks(model(x_test)).numpy()
  if name == "approx_ndcg":
    # NDCG weighs rank k by 2^k − 1: it learns the top of the list first and
    # may plateau there, so it is held to what it optimises.
    accuracy = np.mean(predicted.argmax(-1) == y_test.argmax(-1))
  else:
    accuracy = metrics.partial_ranks_accuracy(y_test, predicted).numpy().mean()
  assert accuracy > 0.6, accuracy  # Chance is 1/n = 0.2.


@pytest.mark.parametrize("name", sorted(ALL_LOSSES))
def test_get_config_round_trip(name):
  loss = ALL_LOSSES[name](4)
  clone = type(loss).from_config(loss.get_config())
  assert clone.get_config() == loss.get_config()
  y, theta = _random_ranks((3, 4)), RNG.normal(size=(3, 4))
  if isinstance(loss, losses.FixedPermutationLoss):
    y, theta = loss.permutation_set.permutations[:3], RNG.normal(size=(3, 20))
  if name != "fenchel_young":  # Unseeded noise differs between calls.
    np.testing.assert_allclose(clone(y, theta), loss(y, theta), rtol=1e-6)


@pytest.mark.parametrize("make", [
    losses.PerturbedFenchelYoungLoss, losses.SoftRankLoss, losses.RankMSELoss,
    losses.ListMLELoss, losses.ApproxNDCGLoss,
    lambda: losses.FixedPermutationLoss(num_items=4, num_permutations=4)])
def test_labels_are_checked_where_they_enter(make):
  loss = make()
  theta = tf.constant(RNG.normal(size=(3, 4)), tf.float32)
  good = np.array([[1, 2, 3, 4], [4, 3, 2, 1], [2, 1, 4, 3]])
  if isinstance(loss, losses.FixedPermutationLoss):
    good = loss.permutation_set.permutations[:3]
  assert np.isfinite(loss(good, theta).numpy())
  for bad in (good - 1, np.array([[1, 1, 3, 4]] * 3)):  # 0-based; repeated.
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="labels must be ranks 1..n"):
      loss(bad, theta)
  for shape_bad in (good[:1], good[:, 0], good.T[:, :3]):  # [1, n]; [B]; .T
    with pytest.raises(ValueError, match="do not match network outputs"):
      loss(shape_bad, theta)
  loss.check_labels = False  # As under XLA: shapes only.
  loss(good, theta)
  with pytest.raises(ValueError, match="do not match"):
    loss(good[:1], theta)


# ---------------------------------------------------------------------------
# Mixed precision.

# One bfloat16 step at 1 (8 significant bits).
BF16_EPS = 2.0**-7


@pytest.mark.parametrize("name", sorted(ALL_LOSSES))
def test_bfloat16_scores_give_float32_losses_that_match_float32(name):
  # A network under mixed precision that left its scores in bfloat16: the
  # loss widens them and computes in float32, so it differs from the float32
  # scores' loss by their rounding alone.
  rng = np.random.default_rng(3)
  loss = ALL_LOSSES[name](10)
  loss.reduction = NONE
  if isinstance(loss, losses.PerturbedFenchelYoungLoss):
    loss.seed = 5  # The same noise for both.
  y = np.stack([rng.permutation(10) + 1 for _ in range(16)])
  outputs = 10
  if isinstance(loss, losses.FixedPermutationLoss):
    y, outputs = loss.permutation_set.permutations[rng.integers(20, size=16)], 20
  theta = tf.constant(rng.normal(scale=3.0, size=(16, outputs)), tf.float32)
  half = tf.cast(theta, tf.bfloat16)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch([theta, half])
    exact, widened = loss(y, theta), loss(y, half)
  assert widened.dtype == tf.float32
  assert loss.predicted_ranks(half).dtype == tf.float32
  scale = np.abs(exact.numpy()).max()
  np.testing.assert_allclose(widened.numpy(), exact.numpy(), rtol=BF16_EPS,
                             atol=BF16_EPS * scale)
  grad = tape.gradient(exact, theta).numpy()
  half_grad = tf.cast(tape.gradient(widened, half), tf.float32).numpy()
  # Perturbed F-Y's gradient counts samples' ranks: rounding may flip one
  # sample's (1/M = 0.1 of a rank) where two perturbed scores nearly tie.
  flips = 0.1 if name == "fenchel_young" else 0.0
  np.testing.assert_allclose(half_grad, grad, rtol=BF16_EPS,
                             atol=BF16_EPS * np.abs(grad).max() + flips)


# ---------------------------------------------------------------------------
# The registry: each loss declared once.

def test_every_registered_loss_has_its_config_and_every_config_a_loss():
  folder = os.path.join(configurables.GIN_DIR, "losses")
  shipped = {f[:-len(".gin")] for f in os.listdir(folder)}
  assert shipped == set(losses.REGISTRY)
  for name, cls in losses.REGISTRY.items():
    gin.clear_config()
    configurables.parse_gin([os.path.join(folder, f"{name}.gin")], [])
    # The config builds the class registered under its name, and the name
    # builds the same class.
    assert gin.query_parameter("train.loss").configurable.wrapped is cls
    assert type(losses.get(name)) is cls
    assert cls.registered_name == name and cls.label
    assert losses.by_class_name(cls.__name__) is cls
  gin.clear_config()


def test_the_paper_losses_in_its_column_order():
  assert losses.paper_losses() == ("fixed_permutations100", "fast_soft_ranking",
                                   "perturbed_fenchel_young", "mse")
  assert [losses.REGISTRY[n].label for n in losses.paper_losses()] == [
      "Fixed Permutation", "Fast Soft Ranking", "Perturbed F-Y", "MSE"]


def test_register_refuses_a_taken_name_and_a_class_that_is_no_loss():
  with pytest.raises(ValueError, match="taken by RankMSELoss"):
    losses.register("mse", "Again")(type("Again", (losses.PermutationLoss,),
                                         {}))
  with pytest.raises(ValueError, match="not a PermutationLoss"):
    losses.register("plain", "Plain")(object)
  assert "plain" not in losses.REGISTRY
