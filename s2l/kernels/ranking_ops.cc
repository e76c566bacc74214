// Fused CPU kernels for s2l.ranking.soft_rank and soft_sort (Blondel, Teboul,
// Berthet & Djolonga 2020, "Fast differentiable sorting and ranking").
//
// Each row is sorted once (O(n log n)) and its isotonic regression solved by
// pool-adjacent-violators (O(n)); rows run in parallel on TensorFlow's CPU
// thread pool. Arithmetic is in double whatever the input type. The maths,
// conventions and extreme-value handling are those of the pure-TensorFlow
// path in s2l/ranking.py, which stays the implementation for XLA, GPU and TPU:
//
//   S2lSoftRankSort(values [N, n], strength ε (scalar)) ->
//       output [N, n]       soft ranks (mode "rank", item order) or soft sorts
//                           (mode "sort", ascending);
//       order [N, n] int32  the item at each sorted position (descending values
//                           for "rank", ascending for "sort"; ties by index);
//       block_start [N, n]  int32, for each sorted position, the first
//                           position of its isotonic block.
//   S2lSoftRankSortGrad(grad_output, values, strength, output, order,
//                       block_start) -> (grad_values [N, n], grad_strength []).
//
// A row holding NaN or ±inf gives NaN in every output entry and no gradient.
//
// Every input is checked before it is used to index memory, and a bad one is
// an InvalidArgumentError, never a crash: values [N, n] with n < 2^31 (order
// is int32); strength a finite scalar > 0; the gradient's [N, n] inputs shaped
// as values; each row of order a permutation of 0..n−1 that sorts the row's
// values as the forward op does, and block_start the forward op's encoding of
// contiguous blocks (position 0 starts one; every other position holds its
// predecessor's start or its own index). These are O(n) per row, checked in
// the per-row loop; the gradient op is public, so it cannot trust them.

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <limits>
#include <string>
#include <vector>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tensorflow/core/util/work_sharder.h"

namespace s2l {
namespace {

using ::tensorflow::DEVICE_CPU;
using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Status;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::errors::InvalidArgument;
using ::tensorflow::shape_inference::InferenceContext;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double LogAddExp(double a, double b) {
  if (a == -kInf) return b;
  if (b == -kInf) return a;
  const double hi = std::max(a, b);
  return hi + std::log1p(std::exp(-std::fabs(a - b)));
}

// Options shared by the forward and backward kernels.
struct Mode {
  bool rank;  // "rank" or "sort".
  bool l2;    // "l2" or "kl".
};

Status ReadMode(OpKernelConstruction* context, Mode* mode) {
  std::string name, regularization;
  TF_RETURN_IF_ERROR(context->GetAttr("mode", &name));
  TF_RETURN_IF_ERROR(context->GetAttr("regularization", &regularization));
  mode->rank = name == "rank";
  mode->l2 = regularization == "l2";
  return Status();
}

// The sorted problem of one row: the isotonic regression of y = z − w
// (both sorted descending), whose blocks give the projection of z onto the
// permutahedron of w.
//   rank: z = θ/ε rebuilt from its gaps capped at n (as the TF path), w = ρ
//         ("l2") or log ρ ("kl"), ρ = (n, ..., 1).
//   sort: z = ρ/ε, w = −θ sorted descending; "l2" rows near the largest double
//         are solved scaled down by a power of two (soft_sort(θ, ε) =
//         c·soft_sort(θ/c, cε)).
struct Row {
  int n;
  std::vector<int32_t> order;
  std::vector<double> z, w;
  double scale = 1.0;  // c above; 1 except for "l2" sorts near overflow.
  explicit Row(int n) : n(n), order(n), z(n), w(n) {}
};

template <typename T>
bool FiniteRow(const T* v, int n) {
  for (int i = 0; i < n; ++i) {
    if (!std::isfinite(static_cast<double>(v[i]))) return false;
  }
  return true;
}

// Sorts positions by value, ties by position: the stable order of
// tf.argsort. float32 rows sort 64-bit keys (the value's bits made monotone,
// then the position), which compare as integers; float64 rows sort
// (value, position) pairs.
inline uint32_t MonotoneBits(float value) {
  if (value == 0.0f) value = 0.0f;  // −0 ties with +0, as in comparisons.
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

struct SortBuffer {
  std::vector<uint64_t> keys;
  std::vector<std::pair<double, int32_t>> pairs;
};

void Sort(const float* v, bool descending, SortBuffer* buffer,
          std::vector<int32_t>* order) {
  const int n = order->size();
  auto& keys = buffer->keys;
  keys.resize(n);
  for (int i = 0; i < n; ++i) {
    const uint32_t bits = MonotoneBits(v[i]);
    keys[i] = (static_cast<uint64_t>(descending ? ~bits : bits) << 32) |
              static_cast<uint32_t>(i);
  }
  std::sort(keys.begin(), keys.end());
  for (int i = 0; i < n; ++i) (*order)[i] = static_cast<int32_t>(keys[i]);
}

void Sort(const double* v, bool descending, SortBuffer* buffer,
          std::vector<int32_t>* order) {
  const int n = order->size();
  auto& pairs = buffer->pairs;
  pairs.resize(n);
  for (int i = 0; i < n; ++i) pairs[i] = {descending ? -v[i] : v[i], i};
  std::sort(pairs.begin(), pairs.end());
  for (int i = 0; i < n; ++i) (*order)[i] = pairs[i].second;
}

template <typename T>
void Prepare(const T* v, double eps, const Mode& mode, SortBuffer* buffer,
             Row* row) {
  const int n = row->n;
  Sort(v, /*descending=*/mode.rank, buffer, &row->order);
  if (mode.rank) {
    // Halves keep the gaps of rows spanning ±max finite; a gap above n
    // splits the isotonic problem, so capping it changes nothing.
    const double cap = 0.5 * n * eps;
    double z = 0.0;
    for (int k = 0; k < n; ++k) {
      if (k > 0) {
        const double half_gap = 0.5 * static_cast<double>(v[row->order[k - 1]]) -
                                0.5 * static_cast<double>(v[row->order[k]]);
        z -= 2.0 * (std::min(half_gap, cap) / eps);
      }
      row->z[k] = z;
      row->w[k] = mode.l2 ? n - k : std::log(static_cast<double>(n - k));
    }
    return;
  }
  double largest = 0.0;
  for (int k = 0; k < n; ++k) {
    largest = std::max(largest, std::fabs(static_cast<double>(v[k])));
  }
  const double factor =
      std::ldexp(1.0, static_cast<int>(std::ceil(std::log2(n))) + 4);
  row->scale = (mode.l2 && largest > std::numeric_limits<double>::max() / factor)
                   ? factor : 1.0;
  for (int k = 0; k < n; ++k) {
    row->z[k] = (n - k) / (eps * row->scale);
    row->w[k] = -static_cast<double>(v[row->order[k]]) / row->scale;
  }
}

// Pool-adjacent-violators for a non-increasing fit of the block values
// (mean of z − w for "l2", LSE(z) − LSE(w) for "kl"); adjacent blocks with
// equal values are merged, so blocks are maximal. Writes each position's
// block start and, per block, the statistics the outputs need.
struct Blocks {
  std::vector<int> start, size;
  std::vector<double> a, b;  // l2: sums of z and w; kl: LSE of z and of w.
  explicit Blocks(int n) : start(n), size(n), a(n), b(n) {}
};

void Pav(const Row& row, bool l2, Blocks* blocks, int* count) {
  auto value = [&](int i) {
    return l2 ? (blocks->a[i] - blocks->b[i]) / blocks->size[i]
              : blocks->a[i] - blocks->b[i];
  };
  int top = -1;
  for (int k = 0; k < row.n; ++k) {
    ++top;
    blocks->start[top] = k;
    blocks->size[top] = 1;
    blocks->a[top] = row.z[k];
    blocks->b[top] = row.w[k];
    while (top > 0 && value(top - 1) <= value(top)) {
      --top;
      blocks->size[top] += blocks->size[top + 1];
      if (l2) {
        blocks->a[top] += blocks->a[top + 1];
        blocks->b[top] += blocks->b[top + 1];
      } else {
        blocks->a[top] = LogAddExp(blocks->a[top], blocks->a[top + 1]);
        blocks->b[top] = LogAddExp(blocks->b[top], blocks->b[top + 1]);
      }
    }
  }
  *count = top + 1;
}

// Runs work(begin, end) over rows: inline for calls of under 16384 values
// (waking the thread pool costs more than such a call), else sharded over
// TensorFlow's intra-op threads.
template <typename Work>
void RunRows(OpKernelContext* context, int64_t rows, int n,
             int64_t cost_per_row, Work work) {
  if (rows * n < 16384) {
    work(0, rows);
    return;
  }
  auto* workers = context->device()->tensorflow_cpu_worker_threads();
  ::tensorflow::Shard(workers->num_threads, workers->workers, rows,
                      cost_per_row, work);
}

// Checks the inputs every op shares: values [N, n], n small enough for the
// int32 order, and (when given) a finite scalar strength ε > 0. The scalar is
// read only once its rank is known: Tensor::scalar() aborts on a vector.
template <typename T>
Status CheckValuesAndStrength(const Tensor& values, const Tensor* strength,
                              double* eps) {
  if (values.dims() != 2) {
    return InvalidArgument("values must be [N, n], got ",
                           values.shape().DebugString());
  }
  if (values.dim_size(1) > std::numeric_limits<int32_t>::max()) {
    return InvalidArgument("values must have fewer than 2^31 columns, got ",
                           values.dim_size(1));
  }
  if (strength == nullptr) return Status();
  if (strength->dims() != 0) {
    return InvalidArgument("strength must be a scalar, got shape ",
                           strength->shape().DebugString());
  }
  *eps = static_cast<double>(strength->scalar<T>()());
  // Written so that NaN fails too.
  if (!(std::isfinite(*eps) && *eps > 0)) {
    return InvalidArgument("regularization_strength must be finite and > 0, "
                           "got ", *eps);
  }
  return Status();
}

template <typename T>
class SoftRankSortOp : public OpKernel {
 public:
  explicit SoftRankSortOp(OpKernelConstruction* context) : OpKernel(context) {
    OP_REQUIRES_OK(context, ReadMode(context, &mode_));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& values = context->input(0);
    double eps;
    OP_REQUIRES_OK(context,
                   CheckValuesAndStrength<T>(values, &context->input(1), &eps));
    const int64_t rows = values.dim_size(0);
    const int n = values.dim_size(1);
    Tensor *output, *order, *block_start;
    OP_REQUIRES_OK(context, context->allocate_output(0, values.shape(), &output));
    OP_REQUIRES_OK(context, context->allocate_output(1, values.shape(), &order));
    OP_REQUIRES_OK(context,
                   context->allocate_output(2, values.shape(), &block_start));
    if (rows == 0 || n == 0) return;
    const T* v = values.flat<T>().data();
    T* out = output->flat<T>().data();
    int32_t* ord = order->flat<int32_t>().data();
    int32_t* starts = block_start->flat<int32_t>().data();
    const Mode mode = mode_;

    auto work = [&](int64_t begin, int64_t end) {
      Row row(n);
      Blocks blocks(n);
      SortBuffer buffer;
      for (int64_t r = begin; r < end; ++r) {
        const T* vr = v + r * n;
        T* outr = out + r * n;
        int32_t* ordr = ord + r * n;
        int32_t* startr = starts + r * n;
        if (!FiniteRow(vr, n)) {
          for (int k = 0; k < n; ++k) {
            outr[k] = static_cast<T>(kNaN);
            ordr[k] = k;
            startr[k] = k;
          }
          continue;
        }
        Prepare(vr, eps, mode, &buffer, &row);
        int count;
        Pav(row, mode.l2, &blocks, &count);
        for (int i = 0; i < count; ++i) {
          const int b = blocks.start[i], size = blocks.size[i];
          double z_mean = 0, w_mean = 0;
          if (mode.l2) {
            // Means of offsets to the block's first item: an item alone in its
            // block gets w exactly.
            for (int k = b; k < b + size; ++k) {
              z_mean += row.z[k] - row.z[b];
              w_mean += row.w[k] - row.w[b];
            }
            z_mean /= size;
            w_mean /= size;
          }
          for (int k = b; k < b + size; ++k) {
            double mu;  // The projection, sorted position k.
            if (mode.l2) {
              mu = (row.z[k] - row.z[b] - z_mean) + row.w[b] + w_mean;
            } else {
              mu = row.z[k] - blocks.a[i] + blocks.b[i];
            }
            startr[k] = b;
            ordr[k] = row.order[k];
            if (mode.rank) {
              outr[row.order[k]] = static_cast<T>(mode.l2 ? mu : std::exp(mu));
            } else {
              outr[k] = static_cast<T>(-mu * row.scale);
            }
          }
        }
      }
    };
    RunRows(context, rows, n, 30 * n * (1 + static_cast<int64_t>(std::log2(n))),
            work);
  }

 private:
  Mode mode_;
};

// Why row r of the gradient's `order` and `block_start` cannot be what the
// forward op returned for its values, or nullptr if they can; *position is
// then the sorted position where the check failed. One O(n) pass: a
// seen-mask (n bytes) finds a repeated, hence a missing, item before any
// item is used as an index. The blocks cannot be checked against the values
// without redoing the forward pass, but their encoding can: the gradient
// walks blocks by comparing block_start with a block's first position, so
// anything else would be misread. With `sorted`, order must also sort the
// values as the forward op does: descending for ranks, ascending for sorts,
// ties by index (rows holding NaN or ±inf are exempt: the forward op gives
// them the identity, and the gradient skips them).
template <typename T>
const char* CheckOrderAndBlocks(const T* v, const int32_t* order,
                                const int32_t* start, int n, bool descending,
                                bool sorted, uint8_t* seen, int* position) {
  if (n > 0) std::memset(seen, 0, n);  // seen may be null when n = 0.
  // Compared as key = ±value, ascending: one comparison for both modes (the
  // negation is exact). Starting below every finite key passes position 0.
  const double sign = descending ? -1.0 : 1.0;
  double previous_key = -kInf;
  int32_t previous_item = -1;
  int32_t block = 0;  // The start of the current block.
  for (int k = 0; k < n; ++k) {
    const int32_t item = order[k];
    const char* why = nullptr;
    if (item < 0 || item >= n) {
      why = "order holds an index outside [0, n)";
    } else if (seen[item]) {
      why = "order repeats an index (not a permutation)";
    } else if (start[k] != k && start[k] != block) {
      why = "block_start is not a block encoding (position 0 must hold 0, "
            "every other position its predecessor's value or its own index)";
    } else if (sorted) {
      const double key = sign * static_cast<double>(v[item]);
      if (!(key > previous_key ||
            (key == previous_key && item > previous_item))) {
        why = descending
            ? "order does not sort values descending, ties by index"
            : "order does not sort values ascending, ties by index";
      }
      previous_key = key;
      previous_item = item;
    }
    if (why != nullptr) {
      *position = k;
      return why;
    }
    seen[item] = 1;
    block = start[k];
  }
  return nullptr;
}

template <typename T>
class SoftRankSortGradOp : public OpKernel {
 public:
  explicit SoftRankSortGradOp(OpKernelConstruction* context)
      : OpKernel(context) {
    OP_REQUIRES_OK(context, ReadMode(context, &mode_));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& upstream = context->input(0);
    const Tensor& values = context->input(1);
    const Tensor& output = context->input(3);
    const Tensor& order = context->input(4);
    const Tensor& block_start = context->input(5);
    double eps;
    OP_REQUIRES_OK(context,
                   CheckValuesAndStrength<T>(values, &context->input(2), &eps));
    const std::pair<const char*, const Tensor*> same_shape[] = {
        {"grad_output", &upstream}, {"output", &output}, {"order", &order},
        {"block_start", &block_start}};
    for (const auto& [name, t] : same_shape) {
      OP_REQUIRES(context, t->shape() == values.shape(),
                  InvalidArgument(name, " must have the shape of values, ",
                                  values.shape().DebugString(), ", got ",
                                  t->shape().DebugString()));
    }
    const int64_t rows = values.dim_size(0);
    const int n = values.dim_size(1);
    Tensor *grad_values, *grad_strength;
    OP_REQUIRES_OK(context,
                   context->allocate_output(0, values.shape(), &grad_values));
    OP_REQUIRES_OK(context,
                   context->allocate_output(1, TensorShape({}), &grad_strength));
    std::vector<double> row_strength(rows, 0.0);
    const T* g = upstream.flat<T>().data();
    const T* v = values.flat<T>().data();
    const T* out = output.flat<T>().data();
    const int32_t* ord = order.flat<int32_t>().data();
    const int32_t* starts = block_start.flat<int32_t>().data();
    T* gv = grad_values->flat<T>().data();
    const Mode mode = mode_;

    // The first row whose order or block_start is invalid (rows if none).
    // Worker threads cannot fail the op, so each shard records its first bad
    // row here and stops; OP_REQUIRES reports the smallest after the loop. A
    // shard skips rows past an already recorded one, which cannot be first.
    std::atomic<int64_t> first_bad(rows);

    auto work = [&](int64_t begin, int64_t end) {
      std::vector<double> gs(n), aux(n);
      std::vector<uint8_t> seen(n);
      for (int64_t r = begin; r < end; ++r) {
        if (first_bad.load(std::memory_order_relaxed) < r) return;
        const T* vr = v + r * n;
        const int32_t* o = ord + r * n;
        const int32_t* st = starts + r * n;
        T* gvr = gv + r * n;
        const bool finite = FiniteRow(vr, n);
        int position;
        if (CheckOrderAndBlocks(vr, o, st, n, mode.rank, finite, seen.data(),
                                &position) != nullptr) {
          int64_t bad = first_bad.load();
          while (r < bad && !first_bad.compare_exchange_weak(bad, r)) {
          }
          return;
        }
        if (!finite) {
          for (int k = 0; k < n; ++k) gvr[k] = T(0);
          continue;
        }
        // Upstream gradient by sorted position.
        for (int k = 0; k < n; ++k) {
          gs[k] = static_cast<double>(g[r * n + (mode.rank ? o[k] : k)]);
        }
        double strength = 0.0;
        for (int b = 0; b < n;) {
          int e = b + 1;
          while (e < n && st[e] == b) ++e;
          const int size = e - b;
          double total = 0.0;
          for (int k = b; k < e; ++k) total += gs[k];
          if (mode.rank) {
            // ∂/∂z of the projection; then z = θ/ε (up to a per-block shift,
            // which the block-centred gradient ignores).
            double weighted = 0.0, normaliser = 0.0;
            if (!mode.l2) {
              // out = exp(p): upstream to p is g·out; softmax(z_B) ∝ out.
              for (int k = b; k < e; ++k) {
                aux[k] = static_cast<double>(out[r * n + o[k]]);
                weighted += gs[k] * aux[k];
                normaliser += aux[k];
              }
            }
            const double first = static_cast<double>(vr[o[b]]);
            for (int k = b; k < e; ++k) {
              const double gz = mode.l2
                  ? gs[k] - total / size
                  : gs[k] * aux[k] - aux[k] / normaliser * weighted;
              gvr[o[k]] = static_cast<T>(gz / eps);
              // ε enters through z = θ/ε: ∂z/∂ε = −z/ε, block offsets only.
              strength -= gz * (static_cast<double>(vr[o[k]]) - first) /
                          (eps * eps);
            }
          } else {
            // out_k = mean_B(t) − (z_k − mean_B z) ("l2") or
            // LSE(z_B) − z_k − LSE(−t_B) ("kl"), z = ρ/ε, t = sorted θ.
            double lse_w = -kInf, lse_z = -kInf;
            if (!mode.l2) {
              for (int k = b; k < e; ++k) {
                lse_w = LogAddExp(lse_w, -static_cast<double>(vr[o[k]]));
                lse_z = LogAddExp(lse_z, (n - k) / eps);
              }
            }
            double rho_mean = 0.0, zsoft = 0.0;
            for (int k = b; k < e; ++k) {
              rho_mean += (n - k);
              if (!mode.l2) zsoft += std::exp((n - k) / eps - lse_z) * (n - k);
            }
            rho_mean /= size;
            for (int k = b; k < e; ++k) {
              const double weight = mode.l2
                  ? 1.0 / size
                  : std::exp(-static_cast<double>(vr[o[k]]) - lse_w);
              gvr[o[k]] = static_cast<T>(weight * total);
              // ∂out_k/∂ε = (ρ_k − mean_B ρ)/ε² ("l2"), or
              // (ρ_k − Σ_B softmax(z)·ρ)/ε² ("kl").
              strength += gs[k] * ((n - k) - (mode.l2 ? rho_mean : zsoft)) /
                          (eps * eps);
            }
          }
          b = e;
        }
        row_strength[r] = strength;
      }
    };
    RunRows(context, rows, n, 20 * static_cast<int64_t>(n), work);
    const int64_t bad = first_bad.load();
    // RowError rechecks that one row for its reason, only on failure.
    OP_REQUIRES(context, bad == rows, RowError(v, ord, starts, n, bad));
    double strength = 0.0;
    for (double s : row_strength) strength += s;
    grad_strength->scalar<T>()() = static_cast<T>(strength);
  }

 private:
  Status RowError(const T* v, const int32_t* order, const int32_t* start,
                  int n, int64_t r) const {
    std::vector<uint8_t> seen(n);
    int position = 0;
    const char* why =
        CheckOrderAndBlocks(v + r * n, order + r * n, start + r * n, n,
                            mode_.rank, FiniteRow(v + r * n, n), seen.data(),
                            &position);
    return InvalidArgument(why, " (row ", r, ", sorted position ", position,
                           "): order and block_start must be those "
                           "S2lSoftRankSort returned for values");
  }

  Mode mode_;
};

// Hard ranks 1..n, ascending, ties by position (the ranks of a stable sort);
// NaN rows for non-finite input. No gradient.
template <typename T>
class RankOp : public OpKernel {
 public:
  explicit RankOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    const Tensor& values = context->input(0);
    OP_REQUIRES_OK(context,
                   CheckValuesAndStrength<T>(values, nullptr, nullptr));
    const int64_t rows = values.dim_size(0);
    const int n = values.dim_size(1);
    Tensor* output;
    OP_REQUIRES_OK(context, context->allocate_output(0, values.shape(), &output));
    if (rows == 0 || n == 0) return;
    const T* v = values.flat<T>().data();
    T* out = output->flat<T>().data();
    auto work = [&](int64_t begin, int64_t end) {
      std::vector<int32_t> order(n);
      SortBuffer buffer;
      for (int64_t r = begin; r < end; ++r) {
        const T* vr = v + r * n;
        T* outr = out + r * n;
        if (!FiniteRow(vr, n)) {
          for (int k = 0; k < n; ++k) outr[k] = static_cast<T>(kNaN);
          continue;
        }
        Sort(vr, /*descending=*/false, &buffer, &order);
        for (int k = 0; k < n; ++k) outr[order[k]] = static_cast<T>(k + 1);
      }
    };
    RunRows(context, rows, n, 10 * n * (1 + static_cast<int64_t>(std::log2(n))),
            work);
  }
};

Status SameShapeAsValues(InferenceContext* c) {
  ::tensorflow::shape_inference::ShapeHandle values;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 2, &values));
  for (int i = 0; i < c->num_outputs(); ++i) c->set_output(i, values);
  return Status();
}

}  // namespace

REGISTER_OP("S2lSoftRankSort")
    .Input("values: T")
    .Input("strength: T")
    .Output("output: T")
    .Output("order: int32")
    .Output("block_start: int32")
    .Attr("T: {float, double}")
    .Attr("mode: {'rank', 'sort'}")
    .Attr("regularization: {'l2', 'kl'}")
    .SetShapeFn(SameShapeAsValues);

REGISTER_OP("S2lSoftRankSortGrad")
    .Input("grad_output: T")
    .Input("values: T")
    .Input("strength: T")
    .Input("output: T")
    .Input("order: int32")
    .Input("block_start: int32")
    .Output("grad_values: T")
    .Output("grad_strength: T")
    .Attr("T: {float, double}")
    .Attr("mode: {'rank', 'sort'}")
    .Attr("regularization: {'l2', 'kl'}")
    .SetShapeFn([](InferenceContext* c) {
      ::tensorflow::shape_inference::ShapeHandle values;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 2, &values));
      c->set_output(0, values);
      c->set_output(1, c->Scalar());
      return Status();
    });

REGISTER_OP("S2lRank")
    .Input("values: T")
    .Output("ranks: T")
    .Attr("T: {float, double}")
    .SetShapeFn(SameShapeAsValues);

#define S2L_REGISTER(T)                                                     \
  REGISTER_KERNEL_BUILDER(                                                  \
      Name("S2lRank").Device(DEVICE_CPU).TypeConstraint<T>("T"),            \
      RankOp<T>);                                                           \
  REGISTER_KERNEL_BUILDER(                                                  \
      Name("S2lSoftRankSort").Device(DEVICE_CPU).TypeConstraint<T>("T"),    \
      SoftRankSortOp<T>);                                                   \
  REGISTER_KERNEL_BUILDER(                                                  \
      Name("S2lSoftRankSortGrad").Device(DEVICE_CPU).TypeConstraint<T>("T"), \
      SoftRankSortGradOp<T>);

S2L_REGISTER(float);
S2L_REGISTER(double);
#undef S2L_REGISTER

}  // namespace s2l
