// Pooling kernels: max, average, adaptive average/max and max-unpooling, forward and backward.
//
// Layout: `planes` = N * C independent row-major planes, each contiguous, one after another
// (a C-contiguous NCHW array). Input planes are in_h x in_w, output planes out_h x out_w.
// A 1-D op is the in_h = out_h = 1 case (kernel_h = stride_h = dilation_h = 1, pad_h = 0).
//
// Windows follow PyTorch: output (oh, ow) reads input rows oh * stride_h - pad_h + kh * dilation_h
// and columns ow * stride_w - pad_w + kw * dilation_w for kh < kernel_h, kw < kernel_w; taps
// outside the plane are padding (ignored by max, zeros for average). Max-pool indices are flat
// positions ih * in_w + iw inside the input plane (int64, as torch returns them).
//
// Every kernel splits the planes over OpenMP threads (each plane is written by one thread, in a
// fixed order, so results are deterministic for a given thread count) when the problem is large
// enough to pay for a parallel region. float and double are instantiated.
#pragma once

#include <cstdint>

namespace ember {

struct PoolGeometry {
  int64_t planes = 0;              // N * C
  int64_t in_h = 1, in_w = 1;      // input plane
  int64_t out_h = 1, out_w = 1;    // output plane
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
};

// PyTorch's output length along one dimension:
//   floor_or_ceil((in + 2 pad - dilation (kernel - 1) - 1) / stride) + 1,
// and with ceil_mode the last window must start inside the input or the left padding.
// May return <= 0 (the caller rejects that). Arguments must be positive (pad >= 0).
int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                         int64_t dilation, bool ceil_mode);

// Result of a kernel that reads caller-supplied indices: ok, or the position (flat, over all
// planes) of the first index that is out of range and its value.
struct IndexCheck {
  bool ok = true;
  int64_t position = 0;
  int64_t value = 0;
};

// ---- max pooling --------------------------------------------------------------------------
// y = max over each window; NaN wins (and the last NaN in scan order gives the index), ties go
// to the first maximum in scan order (kh-major, then kw). `indices` may be null (inference).
// A window whose taps all fall into padding (possible only with dilation) gives -inf and
// index -1. Index type Idx: int64_t (PyTorch's), or int32_t (compact: half the memory traffic;
// only for planes of fewer than 2^31 elements).
template <typename T, typename Idx>
void max_pool2d_forward(const PoolGeometry& g, const T* x, T* y, Idx* indices);

// grad_x (planes x in_h x in_w) = 0, then grad_x[p, indices[p, o]] += grad_y[p, o] for every
// output o (plane by plane, in output order). Index -1 is skipped; any other index outside
// [0, in_h * in_w) aborts with the first such index reported (grad_x is then unspecified).
// Also the backward of adaptive max pooling. Only g.planes, in_*, out_* are used.
template <typename T, typename Idx>
IndexCheck max_pool2d_backward(const PoolGeometry& g, const T* grad_y, const Idx* indices,
                               T* grad_x);

// ---- average pooling --------------------------------------------------------------------------
// y = sum over the window / divisor, where divisor is divisor_override if != 0, else the window
// area clipped to the padded input (count_include_pad) or to the input itself.
template <typename T>
void avg_pool2d_forward(const PoolGeometry& g, bool count_include_pad, int64_t divisor_override,
                        const T* x, T* y);

template <typename T>
void avg_pool2d_backward(const PoolGeometry& g, bool count_include_pad, int64_t divisor_override,
                         const T* grad_y, T* grad_x);

// ---- adaptive pooling (kernel/stride/padding fields unused) ----------------------------------
// Output (oh, ow) covers rows [floor(oh * in_h / out_h), ceil((oh + 1) * in_h / out_h)) and the
// same for columns.
template <typename T>
void adaptive_avg_pool2d_forward(const PoolGeometry& g, const T* x, T* y);

template <typename T>
void adaptive_avg_pool2d_backward(const PoolGeometry& g, const T* grad_y, T* grad_x);

// Max over each adaptive window with max_pool2d_forward's NaN/tie rules; backward is
// max_pool2d_backward.
template <typename T>
void adaptive_max_pool2d_forward(const PoolGeometry& g, const T* x, T* y, int64_t* indices);

// ---- max unpooling (in_* is the pooled size, out_* the unpooled plane) -----------------------
// y = 0, then y[p, indices[p, i]] = x[p, i] (a later duplicate index overwrites an earlier one).
template <typename T>
IndexCheck max_unpool2d_forward(const PoolGeometry& g, const T* x, const int64_t* indices, T* y);

// grad_x[p, i] = grad_y[p, indices[p, i]].
template <typename T>
IndexCheck max_unpool2d_backward(const PoolGeometry& g, const T* grad_y, const int64_t* indices,
                                 T* grad_x);

}  // namespace ember
