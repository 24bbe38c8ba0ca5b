// Direct convolution kernels for AVX-512. This file alone is compiled with -mavx512f; it is only
// reached after the run-time check in conv2d.cpp. Everything here has internal linkage, so no
// AVX-512 code can be picked by the linker for a function the portable files also instantiate.
//
// Shapes per image n and group g (C_in input / C_out output channels in the group):
//   forward          Y[k, p] = sum_{c, tap} W[k, c, tap] * X[c, pixel(p) + offset(tap)]
//   input gradient   the same loop with dY as the image and the kernel flipped and transposed,
//                    for stride 1 (dX[c, q] = sum_{k, tap'} W[k, c, flip(tap')] * dY[k, ...])
//   weight gradient  dW[k, c, tap] = sum_p dY[k, p] * X[c, pixel(p) + offset(tap)]
//
// Algorithm: an implicit GEMM without im2col. Output channels are the vector dimension (16
// floats / 8 doubles per zmm, up to 4 zmm = one block of 64 / 32 channels).
//  - forward / input gradient: a strip of RP consecutive output pixels of one row is held in
//    RP x NV accumulators (6 x 4 = 24 zmm for full blocks). The loop runs over input channels
//    and kernel taps: load the NV weight vectors of that (channel, tap) once, broadcast one
//    input value per strip pixel, FMA. Input channels are taken in blocks whose weights fit in
//    L1; the strip's partial sums wait in a pixel-major tile between blocks, and the finished
//    tile is transposed into the NCHW output (adding the bias).
//  - weight gradient: RJ (channel, tap) pairs x NV vectors of output channels are accumulated
//    over a chunk of output pixels: per pixel, load the NV vectors of dY (transposed into a
//    pixel-major chunk first) and broadcast RJ input values. Each thread sums its share of the
//    (image, band) tasks into a private weight-sized buffer; buffers are added in thread order,
//    so results depend only on the thread count.
//  - forward with few (input channel, tap) pairs (a first layer: C_in * taps <= 64, or <= 288
//    with rows that fill their vectors): output pixels are the vector dimension instead. A
//    zmm holds L consecutive pixels of one output row (masked at the row's end); KB <= 8 output
//    channels x PV <= 4 pixel vectors of accumulators, per (channel, tap) PV loads of the band
//    and KB broadcast weights; results go straight into the NCHW planes, so the tile transpose
//    (which cost more than the FMAs for 3 input channels) disappears.
// Input rows are first copied, per band of output rows, into a zero-padded buffer whose columns
// are split by phase (column mod stride), so that consecutive output pixels read consecutive
// addresses for every stride and dilation and no bounds checks remain in the inner loops.
#include <immintrin.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "common/threading.hpp"
#include "common/workspace.hpp"
#include "conv/conv2d_internal.hpp"

namespace ember {
namespace conv_detail {
namespace {

// ---------------------------------------------------------------------------------------------
// Vector traits
// ---------------------------------------------------------------------------------------------
template <typename T>
struct Vec;

template <>
struct Vec<float> {
  using R = __m512;
  static constexpr int L = 16;
  static R zero() { return _mm512_setzero_ps(); }
  static R load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, R v) { _mm512_storeu_ps(p, v); }
  static R bcast(const float* p) { return _mm512_set1_ps(*p); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static void store_first(float* p, int64_t n, R v) {  // lanes [0, n)
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v);
  }
};

template <>
struct Vec<double> {
  using R = __m512d;
  static constexpr int L = 8;
  static R zero() { return _mm512_setzero_pd(); }
  static R load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, R v) { _mm512_storeu_pd(p, v); }
  static R bcast(const double* p) { return _mm512_set1_pd(*p); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  static void store_first(double* p, int64_t n, R v) {  // lanes [0, n)
    _mm512_mask_storeu_pd(p, static_cast<__mmask8>((1u << n) - 1), v);
  }
};

constexpr int kMaxNV = 4;  // zmm vectors of output channels per block
// Pixels per strip (forward) and (channel, tap) pairs per block (weight gradient) for NV
// vectors: about 24 accumulators, leaving registers for the NV loaded vectors and a broadcast.
constexpr int rp_max(int nv) { return nv == 4 ? 6 : nv == 3 ? 8 : nv == 2 ? 12 : 24; }
constexpr int rj_max(int nv) { return nv == 4 ? 6 : nv == 3 ? 8 : 12; }

constexpr int64_t kWeightBlockBytes = 24 * 1024;  // an input-channel block's weights (L1)
constexpr int64_t kBandBytes = 640 * 1024;        // packed band + output tile per thread (L2)
constexpr int64_t kChunkBytes = 16 * 1024;        // a pixel-major dY chunk (L1)
constexpr double kMinFlopsPerThread = 2.0e6;

int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
void* packed_weight_buffer(size_t bytes);
int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

// ---------------------------------------------------------------------------------------------
// Problem description and the packed input band
// ---------------------------------------------------------------------------------------------

// One group's convolution as the kernels see it: `cin` image channels in, `cout` channels out.
struct Problem {
  int64_t n, groups, cin, cout;
  int64_t h, w, oh, ow;
  int64_t kh, kw, sh, sw, dh, dw, ph, pw;
  int64_t taps() const { return kh * kw; }
};

// Layout of a packed band: rows_in rows of `pitch` = sw * q values per channel, where row r,
// phase f, column m holds the image at row (oh0 * sh - ph + r), column (m * sw + f - pw).
struct Band {
  int64_t rows_out, rows_in, q, pitch, plane;
};

Band make_band(const Problem& P, int64_t rows_out) {
  Band b;
  b.rows_out = rows_out;
  b.rows_in = (rows_out - 1) * P.sh + (P.kh - 1) * P.dh + 1;
  b.q = P.ow + ((P.kw - 1) * P.dw) / P.sw;
  b.pitch = P.sw * b.q;
  b.plane = b.rows_in * b.pitch;
  return b;
}

// Offset of kernel tap (i, j) from an output pixel's position in the packed band.
void tap_offsets(const Problem& P, const Band& b, int64_t* off) {
  for (int64_t i = 0; i < P.kh; ++i)
    for (int64_t j = 0; j < P.kw; ++j)
      off[i * P.kw + j] = i * P.dh * b.pitch + ((j * P.dw) % P.sw) * b.q + (j * P.dw) / P.sw;
}

// Copy the input rows that output rows [oh0, oh0 + rows) read into the band layout.
template <typename T>
void pack_band(const Problem& P, const Band& b, const T* img, ImageStrides s, int64_t oh0,
               int64_t rows, T* xp) {
  const int64_t rows_in = (rows - 1) * P.sh + (P.kh - 1) * P.dh + 1;
  for (int64_t c = 0; c < P.cin; ++c)
    for (int64_t r = 0; r < rows_in; ++r) {
      T* dst = xp + c * b.plane + r * b.pitch;
      const int64_t ih = oh0 * P.sh - P.ph + r;
      if (ih < 0 || ih >= P.h) {
        std::memset(dst, 0, static_cast<size_t>(b.pitch) * sizeof(T));
        continue;
      }
      const T* src = img + c * s.c + ih * s.h;
      for (int64_t f = 0; f < P.sw; ++f) {
        T* d = dst + f * b.q;
        // Columns m with 0 <= m * sw + f - pw < w.
        int64_t lo = P.pw - f > 0 ? cdiv(P.pw - f, P.sw) : 0;
        int64_t hi = P.w - 1 + P.pw - f >= 0 ? (P.w - 1 + P.pw - f) / P.sw + 1 : 0;
        lo = imin(lo, b.q);
        hi = imax(lo, imin(hi, b.q));
        for (int64_t m = 0; m < lo; ++m) d[m] = T(0);
        const int64_t step = P.sw * s.w, first = lo * P.sw + f - P.pw;
        if (step == 1)
          std::memcpy(d + lo, src + first, static_cast<size_t>(hi - lo) * sizeof(T));
        else
          for (int64_t m = lo; m < hi; ++m) d[m] = src[(first + (m - lo) * P.sw) * s.w];
        for (int64_t m = hi; m < b.q; ++m) d[m] = T(0);
      }
    }
}

// ---------------------------------------------------------------------------------------------
// Packed weights: per group, per block of output channels, [input channel][tap][NB lanes]
// ---------------------------------------------------------------------------------------------

template <typename T>
int64_t vectors(int64_t channels) {
  return cdiv(channels, Vec<T>::L);
}
template <typename T>
int64_t blocks(int64_t channels) {
  return cdiv(vectors<T>(channels), kMaxNV);
}
template <typename T>
int64_t block_stride(const Problem& P) {  // elements per (group, block)
  return P.cin * P.taps() * kMaxNV * Vec<T>::L;
}

// get(g, k, c, tap) = the weight from input channel c to output channel k at tap, in group g.
template <typename T, typename Get>
void pack_weights(const Problem& P, Get get, T* wp) {
  constexpr int L = Vec<T>::L;
  const int64_t nvec = vectors<T>(P.cout), nblk = blocks<T>(P.cout), taps = P.taps();
  for (int64_t g = 0; g < P.groups; ++g)
    for (int64_t ob = 0; ob < nblk; ++ob) {
      const int64_t nb = imin(kMaxNV, nvec - ob * kMaxNV) * L, k0 = ob * kMaxNV * L;
      T* dst = wp + (g * nblk + ob) * block_stride<T>(P);
      for (int64_t c = 0; c < P.cin; ++c)
        for (int64_t t = 0; t < taps; ++t, dst += nb)
          for (int64_t l = 0; l < nb; ++l)
            dst[l] = k0 + l < P.cout ? get(g, k0 + l, c, t) : T(0);
    }
}

// ---------------------------------------------------------------------------------------------
// Forward micro-kernel: RP pixels x NV vectors of output channels
// ---------------------------------------------------------------------------------------------

template <typename T>
using StripFn = void (*)(const T* x, int64_t plane, const int64_t* tapoff, int64_t taps,
                         int64_t nc, const T* w, T* out, bool accumulate);

// out[i * NB + lane] (+)= sum_{c < nc, t < taps} x[c * plane + tapoff[t] + i] * w[(c, t)][lane]
template <typename T, int NV, int RP>
void strip_kernel(const T* x, int64_t plane, const int64_t* tapoff, int64_t taps, int64_t nc,
                  const T* w, T* out, bool accumulate) {
  using V = Vec<T>;
  using R = typename V::R;
  constexpr int L = V::L, NB = NV * L;
  R acc[RP][NV];
#pragma GCC unroll 24
  for (int i = 0; i < RP; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = accumulate ? V::load(out + i * NB + v * L) : V::zero();
  for (int64_t c = 0; c < nc; ++c, x += plane) {
    for (int64_t t = 0; t < taps; ++t, w += NB) {
      const T* xt = x + tapoff[t];
      R wv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) wv[v] = V::load(w + v * L);
#pragma GCC unroll 24
      for (int i = 0; i < RP; ++i) {
        const R b = V::bcast(xt + i);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = V::fma(b, wv[v], acc[i][v]);
      }
    }
  }
#pragma GCC unroll 24
  for (int i = 0; i < RP; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) V::store(out + i * NB + v * L, acc[i][v]);
}

template <typename T, int NV, int RP = rp_max(NV)>
StripFn<T> pick_strip(int64_t rp) {
  if constexpr (RP == 1)
    return &strip_kernel<T, NV, 1>;
  else
    return rp == RP ? &strip_kernel<T, NV, RP> : pick_strip<T, NV, RP - 1>(rp);
}

template <typename T>
StripFn<T> strip_for(int64_t nv, int64_t rp) {
  switch (nv) {
    case 1: return pick_strip<T, 1>(rp);
    case 2: return pick_strip<T, 2>(rp);
    case 3: return pick_strip<T, 3>(rp);
    default: return pick_strip<T, 4>(rp);
  }
}

// Output rows [oh0, oh0 + rows) of one image and group, from its packed band `xp`.
// wg: the group's packed weights; yg: the group's first output channel (C-contiguous planes).
template <typename T>
void conv_band(const Problem& P, const Band& b, const T* xp, const T* wg, const int64_t* tapoff,
               const T* bias, int64_t oh0, int64_t rows, T* yg, T* tile) {
  constexpr int L = Vec<T>::L;
  const int64_t taps = P.taps(), nvec = vectors<T>(P.cout), nblk = blocks<T>(P.cout);
  const int64_t out_plane = P.oh * P.ow, npix = rows * P.ow;
  for (int64_t ob = 0; ob < nblk; ++ob) {
    const int64_t nv = imin(kMaxNV, nvec - ob * kMaxNV), nb = nv * L, k0 = ob * kMaxNV * L;
    const T* wb = wg + ob * block_stride<T>(P);
    // Strips of near-equal width, none wider than the register tile.
    const int64_t rp = imin(rp_max(static_cast<int>(nv)), P.ow);
    const int64_t nstrips = cdiv(P.ow, rp), base = P.ow / nstrips, extra = P.ow % nstrips;
    StripFn<T> wide = strip_for<T>(nv, base + (extra ? 1 : 0)), narrow = strip_for<T>(nv, base);
    const int64_t cb = imax(1, kWeightBlockBytes / (taps * nb * static_cast<int64_t>(sizeof(T))));
    for (int64_t c0 = 0; c0 < P.cin; c0 += cb) {
      const int64_t nc = imin(cb, P.cin - c0);
      const T* wc = wb + c0 * taps * nb;
      for (int64_t r = 0; r < rows; ++r) {
        const T* xr = xp + c0 * b.plane + r * P.sh * b.pitch;
        T* tr = tile + r * P.ow * nb;
        for (int64_t s = 0, ow0 = 0; s < nstrips; ++s) {
          const bool is_wide = s < extra;
          (is_wide ? wide : narrow)(xr + ow0, b.plane, tapoff, taps, nc, wc, tr + ow0 * nb, c0 > 0);
          ow0 += is_wide ? base + 1 : base;
        }
      }
    }
    // Transpose the pixel-major tile into the output planes, adding the bias.
    const int64_t kn = imin(nb, P.cout - k0);
    for (int64_t k = 0; k < kn; ++k) {
      T* yk = yg + (k0 + k) * out_plane + oh0 * P.ow;
      const T bk = bias ? bias[k0 + k] : T(0);
      const T* src = tile + k;
      for (int64_t p = 0; p < npix; ++p) yk[p] = src[p * nb] + bk;
    }
  }
}

// Run a direct convolution over every (image, group, band): `img(n, g)` / `out(n, g)` give the
// group's first image / output channel, `bias` is indexed by group-local output channel + g*cout.
template <typename T, typename ImgAt, typename OutAt>
void run_direct(const Problem& P, ImgAt img, ImageStrides s, OutAt out, const T* wpack,
                const T* bias) {
  constexpr int L = Vec<T>::L;
  const int64_t taps = P.taps();
  const double flops = 2.0 * P.n * P.groups * P.cout * P.cin * taps * P.oh * P.ow;
  const int nt = threads_for(flops, kMinFlopsPerThread);
  // Bands: as many output rows as fit the per-thread budget (packed input rows + output tile),
  // and enough bands that every thread gets work.
  const Band one = make_band(P, 1);
  const int64_t tile_row = P.ow * kMaxNV * L;
  const int64_t fixed = P.cin * one.pitch * ((P.kh - 1) * P.dh + 1 - P.sh);
  const int64_t per_row = P.cin * one.pitch * P.sh + tile_row;
  const int64_t budget = kBandBytes / static_cast<int64_t>(sizeof(T));
  int64_t rows = imax(1, imin(P.oh, (budget - fixed) / per_row));
  const int64_t want_bands = cdiv(2 * nt, P.n * P.groups);
  rows = imin(rows, cdiv(P.oh, imin(want_bands, P.oh)));
  const int64_t bands = cdiv(P.oh, rows);
  const Band b = make_band(P, rows);
  const int64_t band_elems = P.cin * b.plane, tile_elems = rows * tile_row;
  const int64_t nblk = blocks<T>(P.cout);

  int64_t tapoff_stack[64];
  int64_t* tapoff = taps <= 64 ? tapoff_stack : static_cast<int64_t*>(std::malloc(taps * sizeof(int64_t)));
  if (!tapoff) throw std::bad_alloc();
  tap_offsets(P, b, tapoff);
  try {
    parallel_tasks(nt, P.n * P.groups * bands, [&](int64_t task) {
      const int64_t band = task % bands, g = (task / bands) % P.groups, n = task / (bands * P.groups);
      const int64_t oh0 = band * rows, nrows = imin(rows, P.oh - oh0);
      T* ws = thread_workspace_as<T>(WorkspaceSlot::Scratch, static_cast<size_t>(band_elems + tile_elems));
      pack_band(P, b, img(n, g), s, oh0, nrows, ws);
      conv_band(P, b, ws, wpack + g * nblk * block_stride<T>(P), tapoff,
                bias ? bias + g * P.cout : nullptr, oh0, nrows, out(n, g), ws + band_elems);
    });
  } catch (...) {
    if (tapoff != tapoff_stack) std::free(tapoff);
    throw;
  }
  if (tapoff != tapoff_stack) std::free(tapoff);
}

// ---------------------------------------------------------------------------------------------
// Forward for few input channels: output pixels as the vector dimension
// ---------------------------------------------------------------------------------------------
// With C_in * taps small (a network's first layer: 3 x 3x3, LeNet's 1 x 5x5) the channel-vector
// kernel above spends most of its time outside the FMAs: transposing its pixel-major tile into
// NCHW costs more than the convolution itself. Here a vector holds L consecutive output pixels
// of one row (the last vector of a row masked), so the accumulators store straight into the
// NCHW planes: KB output channels x PV pixel vectors, per (channel, tap) PV loads of the packed
// band and KB broadcast weights.

// One vector of output pixels: band offset of its first pixel, offset in the output plane, lanes.
struct PixVec {
  int64_t xoff, yoff, n;
};

template <typename T>
using PixFn = void (*)(const T* xp, int64_t plane, const int64_t* tapoff, int64_t taps,
                       int64_t nc, const PixVec* pv, const T* w, const T* bias, T* y,
                       int64_t out_plane);

// y[k * out_plane + pv[v].yoff + lane] = bias[k] + sum_{c < nc, t < taps}
//     w[(c * taps + t) * KB + k] * xp[c * plane + tapoff[t] + pv[v].xoff + lane]
template <typename T, int KB, int PV>
void pixel_kernel(const T* xp, int64_t plane, const int64_t* tapoff, int64_t taps, int64_t nc,
                  const PixVec* pv, const T* w, const T* bias, T* y, int64_t out_plane) {
  using V = Vec<T>;
  using R = typename V::R;
  R acc[KB][PV];
#pragma GCC unroll 8
  for (int k = 0; k < KB; ++k) {
    const R b0 = bias ? V::bcast(bias + k) : V::zero();
#pragma GCC unroll 4
    for (int v = 0; v < PV; ++v) acc[k][v] = b0;
  }
  const T* xv[PV];
#pragma GCC unroll 4
  for (int v = 0; v < PV; ++v) xv[v] = xp + pv[v].xoff;
  for (int64_t c = 0; c < nc; ++c) {
    for (int64_t t = 0; t < taps; ++t, w += KB) {
      const int64_t o = c * plane + tapoff[t];
      R a[PV];
#pragma GCC unroll 4
      for (int v = 0; v < PV; ++v) a[v] = V::load(xv[v] + o);
#pragma GCC unroll 8
      for (int k = 0; k < KB; ++k) {
        const R b = V::bcast(w + k);
#pragma GCC unroll 4
        for (int v = 0; v < PV; ++v) acc[k][v] = V::fma(a[v], b, acc[k][v]);
      }
    }
  }
#pragma GCC unroll 8
  for (int k = 0; k < KB; ++k)
#pragma GCC unroll 4
    for (int v = 0; v < PV; ++v) {
      T* dst = y + k * out_plane + pv[v].yoff;
      if (pv[v].n == V::L)
        V::store(dst, acc[k][v]);
      else
        V::store_first(dst, pv[v].n, acc[k][v]);
    }
}

constexpr int kMaxKB = 8;  // output channels per block; PV = 24 / KB pixel vectors (at most 4)
constexpr int pv_max(int kb) { return 24 / kb < 4 ? 24 / kb : 4; }

template <typename T, int KB, int PV = pv_max(KB)>
PixFn<T> pick_pixel_pv(int64_t pv) {
  if constexpr (PV == 1)
    return &pixel_kernel<T, KB, 1>;
  else
    return pv == PV ? &pixel_kernel<T, KB, PV> : pick_pixel_pv<T, KB, PV - 1>(pv);
}

template <typename T, int KB = kMaxKB>
PixFn<T> pick_pixel(int64_t kb, int64_t pv) {
  if constexpr (KB == 1)
    return pick_pixel_pv<T, 1>(pv);
  else
    return kb == KB ? pick_pixel_pv<T, KB>(pv) : pick_pixel<T, KB - 1>(kb, pv);
}

// Whether the pixel-vector forward suits this problem. Measured on 1 thread against the
// channel-vector kernel (K = 16..128, 3x3): it wins clearly for C_in * taps <= 64 whenever at
// most half of a row's last vector is masked, and by 5-20% up to C_in * taps = 288 when rows fill
// at least 7/8 of their vectors (OW = 16, 32, 56); with more masked lanes (OW = 8, 12) or more
// (channel, tap) pairs the channel-vector kernel is as fast or faster.
template <typename T>
bool pixel_forward_suits(const Problem& P) {
  constexpr int64_t L = Vec<T>::L;
  const int64_t ct = P.cin * P.taps(), lanes = cdiv(P.ow, L) * L;
  if (ct <= 64) return 2 * P.ow >= L;
  return ct <= 288 && 8 * P.ow >= 7 * lanes;
}

// Output channels [0, cout) in blocks of near-equal size kb <= kMaxKB: block j starts at
// channel j * base + min(j, extra).
struct KBlocks {
  int64_t count, base, extra;
  int64_t start(int64_t j) const { return j * base + imin(j, extra); }
  int64_t size(int64_t j) const { return base + (j < extra ? 1 : 0); }
};
KBlocks kblocks(int64_t cout) {
  const int64_t count = cdiv(cout, kMaxKB);
  return {count, cout / count, cout % count};
}

template <typename T>
void forward_pixel(const Problem& P, const T* x, ImageStrides xs, const T* w, const T* bias,
                   T* y) {
  constexpr int L = Vec<T>::L;
  const int64_t taps = P.taps(), ct = P.cin * taps, out_plane = P.oh * P.ow;
  const KBlocks kbl = kblocks(P.cout);
  // Weights per group and channel block: [c][tap][kb]. Block j of group g starts at element
  // (g * cout + start(j)) * ct, so the packed array is exactly as large as w.
  T* wp = static_cast<T*>(packed_weight_buffer(
      static_cast<size_t>(P.groups * P.cout * ct) * sizeof(T)));
  for (int64_t g = 0; g < P.groups; ++g)
    for (int64_t j = 0; j < kbl.count; ++j) {
      const int64_t k0 = kbl.start(j), kb = kbl.size(j);
      T* dst = wp + (g * P.cout + k0) * ct;
      for (int64_t e = 0; e < ct; ++e)
        for (int64_t k = 0; k < kb; ++k) dst[e * kb + k] = w[(g * P.cout + k0 + k) * ct + e];
    }

  const double flops = 2.0 * P.n * P.groups * P.cout * ct * out_plane;
  const int nt = threads_for(flops, kMinFlopsPerThread);
  const Band one = make_band(P, 1);
  const int64_t fixed = P.cin * one.pitch * ((P.kh - 1) * P.dh + 1 - P.sh);
  const int64_t per_row = P.cin * one.pitch * P.sh;
  const int64_t budget = kBandBytes / static_cast<int64_t>(sizeof(T));
  int64_t rows = imax(1, imin(P.oh, (budget - fixed) / per_row));
  rows = imin(rows, cdiv(P.oh, imin(cdiv(2 * nt, P.n * P.groups), P.oh)));
  const int64_t bands = cdiv(P.oh, rows);
  const Band b = make_band(P, rows);
  const int64_t vpr = cdiv(P.ow, L);  // vectors per output row
  // Workspace: band | L zeros (the masked lanes of the last row may read past the band) |
  // the band's pixel vectors.
  const int64_t band_elems = P.cin * b.plane + L;
  const size_t pv_off = (static_cast<size_t>(band_elems) * sizeof(T) + 63) / 64 * 64;
  const size_t ws_bytes = pv_off + static_cast<size_t>(rows * vpr) * sizeof(PixVec);

  int64_t tapoff_stack[64];
  int64_t* tapoff = taps <= 64 ? tapoff_stack : static_cast<int64_t*>(std::malloc(taps * sizeof(int64_t)));
  if (!tapoff) throw std::bad_alloc();
  tap_offsets(P, b, tapoff);
  try {
    parallel_tasks(nt, P.n * P.groups * bands, [&](int64_t task) {
      const int64_t band = task % bands, g = (task / bands) % P.groups, n = task / (bands * P.groups);
      const int64_t oh0 = band * rows, nrows = imin(rows, P.oh - oh0);
      char* ws = static_cast<char*>(thread_workspace(WorkspaceSlot::Scratch, ws_bytes));
      T* xp = reinterpret_cast<T*>(ws);
      PixVec* pv = reinterpret_cast<PixVec*>(ws + pv_off);
      pack_band(P, b, x + n * xs.n + g * P.cin * xs.c, xs, oh0, nrows, xp);
      for (int64_t e = P.cin * b.plane; e < band_elems; ++e) xp[e] = T(0);
      const int64_t nvec = nrows * vpr;
      for (int64_t i = 0; i < nvec; ++i) {
        const int64_t r = i / vpr, ow0 = (i % vpr) * L;
        pv[i] = PixVec{r * P.sh * b.pitch + ow0, (oh0 + r) * P.ow + ow0, imin(L, P.ow - ow0)};
      }
      T* yg = y + (n * P.groups + g) * P.cout * out_plane;
      for (int64_t j = 0; j < kbl.count; ++j) {
        const int64_t k0 = kbl.start(j), kb = kbl.size(j), pvm = pv_max(static_cast<int>(kb));
        const T* wb = wp + (g * P.cout + k0) * ct;
        const T* bb = bias ? bias + g * P.cout + k0 : nullptr;
        const PixFn<T> full = pick_pixel<T>(kb, pvm);
        for (int64_t i = 0; i < nvec; i += pvm) {
          const int64_t cnt = imin(pvm, nvec - i);
          (cnt == pvm ? full : pick_pixel<T>(kb, cnt))(xp, b.plane, tapoff, taps, P.cin, pv + i,
                                                        wb, bb, yg + k0 * out_plane, out_plane);
        }
      }
    });
  } catch (...) {
    if (tapoff != tapoff_stack) std::free(tapoff);
    throw;
  }
  if (tapoff != tapoff_stack) std::free(tapoff);
}

// ---------------------------------------------------------------------------------------------
// Weight-gradient micro-kernel: RJ (channel, tap) pairs x NV vectors of output channels
// ---------------------------------------------------------------------------------------------

// A run of consecutive output pixels of one row inside a chunk: band row offset `xoff` (of the
// row's first pixel), columns [ow0, ow1), and `p` = the chunk-local index of pixel ow0.
struct Segment {
  int64_t xoff, ow0, ow1, p;
};

template <typename T>
using WgradFn = void (*)(const T* xp, const int64_t* joff, const Segment* seg, int64_t nseg,
                         const T* dyt, int64_t kpad, T* acc_out);

// acc_out[j * kpad + lane] += sum over the segments' pixels of
//     xp[joff[j] + xoff + ow] * dyt[p * kpad + lane]
template <typename T, int NV, int RJ>
void wgrad_kernel(const T* xp, const int64_t* joff, const Segment* seg, int64_t nseg,
                  const T* dyt, int64_t kpad, T* acc_out) {
  using V = Vec<T>;
  using R = typename V::R;
  constexpr int L = V::L;
  R acc[RJ][NV];
#pragma GCC unroll 12
  for (int j = 0; j < RJ; ++j)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[j][v] = V::load(acc_out + j * kpad + v * L);
  for (int64_t s = 0; s < nseg; ++s) {
    const T* px[RJ];
#pragma GCC unroll 12
    for (int j = 0; j < RJ; ++j) px[j] = xp + joff[j] + seg[s].xoff;
    const T* d = dyt + (seg[s].p - seg[s].ow0) * kpad;
    for (int64_t ow = seg[s].ow0; ow < seg[s].ow1; ++ow) {
      R dv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) dv[v] = V::load(d + ow * kpad + v * L);
#pragma GCC unroll 12
      for (int j = 0; j < RJ; ++j) {
        const R b = V::bcast(px[j] + ow);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[j][v] = V::fma(b, dv[v], acc[j][v]);
      }
    }
  }
#pragma GCC unroll 12
  for (int j = 0; j < RJ; ++j)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) V::store(acc_out + j * kpad + v * L, acc[j][v]);
}

template <typename T, int NV, int RJ = rj_max(NV)>
WgradFn<T> pick_wgrad(int64_t rj) {
  if constexpr (RJ == 1)
    return &wgrad_kernel<T, NV, 1>;
  else
    return rj == RJ ? &wgrad_kernel<T, NV, RJ> : pick_wgrad<T, NV, RJ - 1>(rj);
}

template <typename T>
WgradFn<T> wgrad_for(int64_t nv, int64_t rj) {
  switch (nv) {
    case 1: return pick_wgrad<T, 1>(rj);
    case 2: return pick_wgrad<T, 2>(rj);
    case 3: return pick_wgrad<T, 3>(rj);
    default: return pick_wgrad<T, 4>(rj);
  }
}

// partial[(c * taps + t) * kpad + k] += the weight gradient of output rows [oh0, oh0 + rows) of
// one image and group: xp is their packed band, dyg the group's first dY plane.
template <typename T>
void wgrad_band(const Problem& P, const Band& b, const T* xp, const int64_t* tapoff,
                const T* dyg, int64_t oh0, int64_t rows, int64_t chunk, T* dyt, Segment* seg,
                int64_t* joff, T* partial) {
  constexpr int L = Vec<T>::L;
  const int64_t taps = P.taps(), nct = P.cin * taps, nvec = vectors<T>(P.cout);
  const int64_t kpad = nvec * L, nblk = blocks<T>(P.cout), plane = P.oh * P.ow;
  const int64_t npix = rows * P.ow;
  for (int64_t p0 = 0; p0 < npix; p0 += chunk) {
    const int64_t pn = imin(chunk, npix - p0);
    // dY of the chunk, pixel-major, zero-padded to whole vectors of channels.
    for (int64_t q = 0; q < pn; ++q)
      for (int64_t k = P.cout; k < kpad; ++k) dyt[q * kpad + k] = T(0);
    for (int64_t k = 0; k < P.cout; ++k) {
      const T* src = dyg + k * plane + oh0 * P.ow + p0;
      for (int64_t q = 0; q < pn; ++q) dyt[q * kpad + k] = src[q];
    }
    int64_t nseg = 0;
    for (int64_t q = 0; q < pn;) {
      const int64_t r = (p0 + q) / P.ow, ow0 = (p0 + q) % P.ow, len = imin(P.ow - ow0, pn - q);
      seg[nseg++] = Segment{r * P.sh * b.pitch, ow0, ow0 + len, q};
      q += len;
    }
    for (int64_t ob = 0; ob < nblk; ++ob) {
      const int64_t nv = imin(kMaxNV, nvec - ob * kMaxNV), rjm = rj_max(static_cast<int>(nv));
      for (int64_t ct0 = 0; ct0 < nct; ct0 += rjm) {
        const int64_t rj = imin(rjm, nct - ct0);
        for (int64_t j = 0; j < rj; ++j) {
          const int64_t ct = ct0 + j;
          joff[j] = (ct / taps) * b.plane + tapoff[ct % taps];
        }
        wgrad_for<T>(nv, rj)(xp, joff, seg, nseg, dyt + ob * kMaxNV * L, kpad,
                             partial + ct0 * kpad + ob * kMaxNV * L);
      }
    }
  }
}

// A grow-only, 64-byte aligned buffer of the calling thread for packed weights (the thread's
// Scratch workspace holds its band while the kernels run).
void* packed_weight_buffer(size_t bytes) {
  struct Buffer {
    void* p = nullptr;
    size_t size = 0;
    ~Buffer() { std::free(p); }
  };
  thread_local Buffer buf;
  if (bytes > buf.size) {
    const size_t want = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, want);
    if (!p) throw std::bad_alloc();
    std::free(buf.p);
    buf.p = p;
    buf.size = want;
  }
  return buf.p;
}

template <typename T>
T* packed_weights(const Problem& P) {
  return static_cast<T*>(packed_weight_buffer(
      static_cast<size_t>(P.groups * blocks<T>(P.cout) * block_stride<T>(P)) * sizeof(T)));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

template <typename T>
bool forward_direct_avx512(const ConvGeometry& g, const T* x, ImageStrides xs, const T* w,
                           const T* bias, T* y) {
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups, taps = g.kh * g.kw;
  if (cg == 0 || kg == 0) return false;
  const Problem P{g.n, g.groups, cg, kg, g.h, g.w, g.oh, g.ow, g.kh, g.kw,
                  g.sh, g.sw, g.dh, g.dw, g.ph, g.pw};
  if (pixel_forward_suits<T>(P)) {
    forward_pixel<T>(P, x, xs, w, bias, y);
    return true;
  }
  if (kg < Vec<T>::L / 2) return false;
  T* wp = packed_weights<T>(P);
  pack_weights<T>(P, [&](int64_t gi, int64_t k, int64_t c, int64_t t) {
    return w[((gi * kg + k) * cg + c) * taps + t];
  }, wp);
  run_direct<T>(
      P, [&](int64_t n, int64_t gi) { return x + n * xs.n + gi * cg * xs.c; }, xs,
      [&](int64_t n, int64_t gi) { return y + (n * g.k + gi * kg) * g.oh * g.ow; }, wp, bias);
  return true;
}

template <typename T>
bool backward_input_direct_avx512(const ConvGeometry& g, const T* dy, const T* w,
                                  const T* bias_dx, T* dx) {
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups, taps = g.kh * g.kw;
  if (g.sh != 1 || g.sw != 1 || cg < Vec<T>::L / 2 || kg == 0) return false;
  // dX = conv(dY, W flipped and transposed), stride 1, padding (kernel reach - padding).
  const Problem P{g.n, g.groups, kg, cg, g.oh, g.ow, g.h, g.w, g.kh, g.kw,
                  1, 1, g.dh, g.dw, g.dh * (g.kh - 1) - g.ph, g.dw * (g.kw - 1) - g.pw};
  T* wp = packed_weights<T>(P);
  pack_weights<T>(P, [&](int64_t gi, int64_t c, int64_t k, int64_t t) {
    return w[((gi * kg + k) * cg + c) * taps + (taps - 1 - t)];
  }, wp);
  const ImageStrides dys = ImageStrides::contiguous(g.k, g.oh, g.ow);
  run_direct<T>(
      P, [&](int64_t n, int64_t gi) { return dy + (n * g.k + gi * kg) * g.oh * g.ow; }, dys,
      [&](int64_t n, int64_t gi) { return dx + (n * g.c + gi * cg) * g.h * g.w; }, wp, bias_dx);
  return true;
}

template <typename T>
bool backward_weight_direct_avx512(const ConvGeometry& g, const T* x, ImageStrides xs,
                                   const T* dy, T* dw) {
  constexpr int L = Vec<T>::L;
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups, taps = g.kh * g.kw;
  if (kg < L / 2 || cg == 0) return false;
  const Problem P{g.n, g.groups, cg, kg, g.h, g.w, g.oh, g.ow, g.kh, g.kw,
                  g.sh, g.sw, g.dh, g.dw, g.ph, g.pw};
  const int64_t kpad = vectors<T>(kg) * L, nct = cg * taps;
  const int64_t part_elems = g.groups * nct * kpad;  // one thread's [group][c, tap][k] sums
  const double flops = 2.0 * g.n * g.k * cg * taps * g.oh * g.ow;
  const int nt_req = threads_for(flops, kMinFlopsPerThread);

  // Bands as in the forward pass (the band budget's tile share holds the dY chunk instead).
  const Band one = make_band(P, 1);
  const int64_t fixed = P.cin * one.pitch * ((P.kh - 1) * P.dh + 1 - P.sh);
  const int64_t budget = kBandBytes / static_cast<int64_t>(sizeof(T));
  int64_t rows = imax(1, imin(P.oh, (budget - fixed) / (P.cin * one.pitch * P.sh)));
  rows = imin(rows, cdiv(P.oh, imin(cdiv(2 * nt_req, P.n * P.groups), P.oh)));
  const int64_t bands = cdiv(P.oh, rows), tasks = P.n * P.groups * bands;
  const int nt = static_cast<int>(imin(nt_req, tasks));
  const Band b = make_band(P, rows);
  const int64_t chunk = imax(1, imin(256, kChunkBytes / (kpad * static_cast<int64_t>(sizeof(T)))));
  const int64_t max_seg = chunk / imax(1, P.ow) + 2;
  const int64_t band_elems = P.cin * b.plane, dyt_elems = chunk * kpad;
  // Per-thread workspace: band | dY chunk | partial sums | segments | (c, tap) offsets | tap
  // offsets, each part 64-byte aligned.
  auto align = [](size_t bytes) { return (bytes + 63) / 64 * 64; };
  const size_t off_dyt = align(static_cast<size_t>(band_elems) * sizeof(T));
  const size_t off_part = off_dyt + align(static_cast<size_t>(dyt_elems) * sizeof(T));
  const size_t off_seg = off_part + align(static_cast<size_t>(part_elems) * sizeof(T));
  const size_t off_joff = off_seg + align(static_cast<size_t>(max_seg) * sizeof(Segment));
  const size_t ws_bytes = off_joff + static_cast<size_t>(rj_max(1) + taps) * sizeof(int64_t);

  T* partial[256];
  const int nthreads = nt < 256 ? nt : 256;
  bool failed = false;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
  {
    const int t = nthreads > 1 ? thread_index() : 0;
    char* ws = nullptr;
    try {
      ws = static_cast<char*>(thread_workspace(WorkspaceSlot::Scratch, ws_bytes));
    } catch (...) {
#pragma omp atomic write
      failed = true;
    }
    T* mine = nullptr;
    if (ws) {
      mine = reinterpret_cast<T*>(ws + off_part);
      partial[t] = mine;
      for (int64_t e = 0; e < part_elems; ++e) mine[e] = T(0);
    }
#pragma omp barrier
    bool ok;
#pragma omp atomic read
    ok = failed;
    ok = !ok;
    if (ok) {
      T* xp = reinterpret_cast<T*>(ws);
      T* dyt = reinterpret_cast<T*>(ws + off_dyt);
      Segment* seg = reinterpret_cast<Segment*>(ws + off_seg);
      int64_t* joff = reinterpret_cast<int64_t*>(ws + off_joff);
      int64_t* tapoff = joff + rj_max(1);
      tap_offsets(P, b, tapoff);
      const int64_t begin = tasks * t / nthreads, end = tasks * (t + 1) / nthreads;
      for (int64_t task = begin; task < end; ++task) {
        const int64_t band = task % bands, gi = (task / bands) % P.groups;
        const int64_t n = task / (bands * P.groups);
        const int64_t oh0 = band * rows, nrows = imin(rows, P.oh - oh0);
        pack_band(P, b, x + n * xs.n + gi * cg * xs.c, xs, oh0, nrows, xp);
        wgrad_band(P, b, xp, tapoff, dy + (n * g.k + gi * kg) * g.oh * g.ow, oh0, nrows, chunk,
                   dyt, seg, joff, mine + gi * nct * kpad);
      }
    }
#pragma omp barrier
    if (ok) {
      // dw[g, k, c, tap] = sum over threads, in thread order, of partial[g][(c, tap)][k].
      const int64_t total = g.k * nct;
      const int64_t begin = total * t / nthreads, end = total * (t + 1) / nthreads;
      for (int64_t e = begin; e < end; ++e) {
        const int64_t gk = e / nct, ct = e % nct, gi = gk / kg, k = gk % kg;
        const int64_t idx = (gi * nct + ct) * kpad + k;
        T sum = partial[0][idx];
        for (int s = 1; s < nthreads; ++s) sum += partial[s][idx];
        dw[e] = sum;
      }
    }
  }
  if (failed) throw std::bad_alloc();
  return true;
}

#define EMBER_CONV_DIRECT_INSTANTIATE(T)                                                        \
  template bool forward_direct_avx512<T>(const ConvGeometry&, const T*, ImageStrides, const T*, \
                                         const T*, T*);                                        \
  template bool backward_input_direct_avx512<T>(const ConvGeometry&, const T*, const T*,       \
                                                const T*, T*);                                 \
  template bool backward_weight_direct_avx512<T>(const ConvGeometry&, const T*, ImageStrides,  \
                                                 const T*, T*);
EMBER_CONV_DIRECT_INSTANTIATE(float)
EMBER_CONV_DIRECT_INSTANTIATE(double)
#undef EMBER_CONV_DIRECT_INSTANTIATE

}  // namespace conv_detail
}  // namespace ember
