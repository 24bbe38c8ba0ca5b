// 2-D convolution (NCHW), float and double: forward, input gradient, weight gradient, and the
// per-channel sum that is the bias gradient.
//
//   x   (N, C, H, W)        input; any element strides
//   w   (K, C/G, KH, KW)    weights; C-contiguous
//   y   (N, K, OH, OW)      output; C-contiguous
//   G   groups: output channel k sees input channels [g*C/G, (g+1)*C/G) with g = k / (K/G)
//
//   y[n,k,oh,ow] = bias[k] + sum_{c,i,j} w[k,c,i,j] * x[n, g*C/G + c, oh*SH - PH + i*DH,
//                                                                     ow*SW - PW + j*DW]
//
// with x read as zero outside [0,H) x [0,W). PH/PW are the top/left padding; the output size is
// given explicitly, so bottom/right padding is whatever OH/OW imply. That one rule covers
// symmetric padding, padding='same' with an odd total (torch puts the extra row on the bottom)
// and transposed convolutions with output_padding.
//
// The transposed convolution is the adjoint of this map: its forward is conv2d_backward_input
// and its input gradient is conv2d_forward, with the same geometry and weights.
//
// Implementations (chosen per call in conv2d.cpp):
//  - portable: im2col of one tile of output pixels at a time into a bounded per-thread buffer,
//    then ember::gemm (whose micro-kernel is itself dispatched: AVX-512, AVX2 or generic);
//  - direct AVX-512 kernels (conv2d_direct_avx512.cpp) for the common geometries; the forward
//    vectorises over output channels, or over output pixels when there are few input channels
//    (which also covers fewer than 8 output channels, e.g. LeNet's first layer).
#pragma once

#include <cstdint>

namespace ember {

struct ConvGeometry {
  int64_t n = 0, c = 0, h = 0, w = 0;  // input batch, channels, height, width
  int64_t k = 0, oh = 0, ow = 0;       // output channels, height, width
  int64_t kh = 1, kw = 1;              // kernel height, width
  int64_t sh = 1, sw = 1;              // stride
  int64_t ph = 0, pw = 0;              // top / left padding (may exceed the kernel: reads zero)
  int64_t dh = 1, dw = 1;              // dilation
  int64_t groups = 1;

  int64_t cg() const { return c / groups; }  // input channels per group
  int64_t kg() const { return k / groups; }  // output channels per group
  int64_t taps() const { return kh * kw; }
  int64_t out_pixels() const { return oh * ow; }
};

// Element strides of an NCHW array.
struct ImageStrides {
  int64_t n = 0, c = 0, h = 0, w = 0;
  static ImageStrides contiguous(int64_t c, int64_t h, int64_t w) { return {c * h * w, h * w, w, 1}; }
};

// y = conv(x, w) + bias. bias may be null. y is overwritten.
template <typename T>
void conv2d_forward(const ConvGeometry& g, const T* x, ImageStrides xs, const T* w, const T* bias,
                    T* y);

// dx = conv^T(dy, w) (+ bias_dx[c] on every pixel of channel c when bias_dx is not null: the
// bias of a transposed convolution). dy (N, K, OH, OW) and dx (N, C, H, W) are C-contiguous;
// dx is overwritten.
template <typename T>
void conv2d_backward_input(const ConvGeometry& g, const T* dy, const T* w, const T* bias_dx,
                           T* dx);

// dw[k,c,i,j] = sum_{n,oh,ow} dy[n,k,oh,ow] * x[n, g*C/G + c, oh*SH - PH + i*DH, ow*SW - PW + j*DW].
// x has any strides, dy is C-contiguous, dw (K, C/G, KH, KW) is overwritten.
template <typename T>
void conv2d_backward_weight(const ConvGeometry& g, const T* x, ImageStrides xs, const T* dy, T* dw);

// out[c] = sum_{n,h,w} a[n,c,h,w] (the bias gradient), accumulated in double, one channel per
// thread so the result does not depend on the thread count.
template <typename T>
void channel_sum(int64_t n, int64_t c, int64_t h, int64_t w, const T* a, ImageStrides as, T* out);

}  // namespace ember
