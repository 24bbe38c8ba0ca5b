// The softmax-family block kernels, written once over a SIMD wrapper `V` and compiled once per
// instruction set. Each including .cpp defines EMBER_SOFTMAX_ISA first, so every copy lives in
// its own namespace and the linker never mixes code built for different instruction sets.
//
// `V` provides, for W lanes of T:
//   set1(a) zero() load(p) load_partial(p, n) [zero-filled, never touches p[n..]]
//   store(p, v) store_partial(p, n, v) add sub mul div max fmadd(a, b, c) = a * b + c
//   select(mask, a, b) [lane i from a if bit i of mask is set, else from b]
//   hsum(v) hmax(v) exp(v) log(v)
//
// Two shapes of loop (softmax.hpp has the layout):
//   rows     one position at a time, vectorised along its contiguous class axis, with two
//            accumulators so the max/sum chains do not serialise on the add latency; the tail
//            of a row is a partial vector whose extra lanes are replaced before they count.
//   strips   W neighbouring positions at a time (one lane each), stepping along the strided
//            class axis; reductions are lane-wise, so no horizontal work except the per-lane
//            finish (log, target lookup) done in scalar code.
#pragma once

#include <math.h>

#include <cstdint>
#include <limits>

#include "softmax/kernels.hpp"

#ifndef EMBER_SOFTMAX_ISA
#error "define EMBER_SOFTMAX_ISA before including kernels_impl.hpp"
#endif

namespace ember {
namespace softmax_detail {
namespace EMBER_SOFTMAX_ISA {
namespace {

template <class V>
struct Kernels {
  using T = typename V::T;
  using R = typename V::R;
  static constexpr int W = V::W;
  static constexpr T kInf = std::numeric_limits<T>::infinity();

  static unsigned first_lanes(int64_t n) { return n >= W ? ~0u : (1u << n) - 1u; }
  static double dlog(double v) { return ::log(v); }
  static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

  // ---------------------------------------------------------------------------------------
  // Row primitives (contiguous class axis of length n)
  // ---------------------------------------------------------------------------------------

  // max_c sgn * x_c
  static T row_max(const T* x, int64_t n, T sgn) {
    const R s = V::set1(sgn);
    R m0 = V::set1(-kInf), m1 = m0;
    int64_t j = 0;
    for (; j + 2 * W <= n; j += 2 * W) {
      m0 = V::max(m0, V::mul(s, V::load(x + j)));
      m1 = V::max(m1, V::mul(s, V::load(x + j + W)));
    }
    if (j + W <= n) m0 = V::max(m0, V::mul(s, V::load(x + j))), j += W;
    if (j < n) {
      const R t = V::mul(s, V::load_partial(x + j, n - j));
      m1 = V::max(m1, V::select(first_lanes(n - j), t, V::set1(-kInf)));
    }
    return V::hmax(V::max(m0, m1));
  }

  // sum_c exp(sgn * x_c - m), also storing the terms to e when Store.
  template <bool Store>
  static T row_exp_sum(const T* x, int64_t n, T sgn, T m, T* e) {
    const R s = V::set1(sgn), nm = V::set1(-m);
    R a0 = V::zero(), a1 = V::zero();
    int64_t j = 0;
    for (; j + 2 * W <= n; j += 2 * W) {
      const R e0 = V::exp(V::fmadd(s, V::load(x + j), nm));
      const R e1 = V::exp(V::fmadd(s, V::load(x + j + W), nm));
      a0 = V::add(a0, e0);
      a1 = V::add(a1, e1);
      if (Store) V::store(e + j, e0), V::store(e + j + W, e1);
    }
    if (j + W <= n) {
      const R e0 = V::exp(V::fmadd(s, V::load(x + j), nm));
      a0 = V::add(a0, e0);
      if (Store) V::store(e + j, e0);
      j += W;
    }
    if (j < n) {
      const R e0 = V::exp(V::fmadd(s, V::load_partial(x + j, n - j), nm));
      a1 = V::add(a1, V::select(first_lanes(n - j), e0, V::zero()));
      if (Store) V::store_partial(e + j, n - j, e0);
    }
    return V::hsum(V::add(a0, a1));
  }

  // y_c *= r
  static void row_scale(T* y, int64_t n, T r) {
    const R rv = V::set1(r);
    int64_t j = 0;
    for (; j + W <= n; j += W) V::store(y + j, V::mul(V::load(y + j), rv));
    if (j < n) V::store_partial(y + j, n - j, V::mul(V::load_partial(y + j, n - j), rv));
  }

  // y_c = (sgn * x_c - m) - ls
  static void row_log_out(const T* x, T* y, int64_t n, T sgn, T m, T ls) {
    const R s = V::set1(sgn), nm = V::set1(-m), lv = V::set1(ls);
    int64_t j = 0;
    for (; j + W <= n; j += W) V::store(y + j, V::sub(V::fmadd(s, V::load(x + j), nm), lv));
    if (j < n)
      V::store_partial(y + j, n - j,
                       V::sub(V::fmadd(s, V::load_partial(x + j, n - j), nm), lv));
  }

  // sum_c a_c * b_c (b null: sum_c a_c)
  static T row_dot(const T* a, const T* b, int64_t n) {
    R s0 = V::zero(), s1 = V::zero();
    int64_t j = 0;
    if (b) {
      for (; j + 2 * W <= n; j += 2 * W) {
        s0 = V::fmadd(V::load(a + j), V::load(b + j), s0);
        s1 = V::fmadd(V::load(a + j + W), V::load(b + j + W), s1);
      }
      if (j + W <= n) s0 = V::fmadd(V::load(a + j), V::load(b + j), s0), j += W;
      if (j < n) s1 = V::fmadd(V::load_partial(a + j, n - j), V::load_partial(b + j, n - j), s1);
    } else {
      for (; j + 2 * W <= n; j += 2 * W) {
        s0 = V::add(s0, V::load(a + j));
        s1 = V::add(s1, V::load(a + j + W));
      }
      if (j + W <= n) s0 = V::add(s0, V::load(a + j)), j += W;
      if (j < n) s1 = V::add(s1, V::load_partial(a + j, n - j));
    }
    return V::hsum(V::add(s0, s1));
  }

  static void row_zero(T* y, int64_t n) {
    int64_t j = 0;
    for (; j + W <= n; j += W) V::store(y + j, V::zero());
    if (j < n) V::store_partial(y + j, n - j, V::zero());
  }

  // ---------------------------------------------------------------------------------------
  // Softmax / log-softmax
  // ---------------------------------------------------------------------------------------

  static void softmax_row(const T* x, T* y, int64_t n, bool log, T sgn) {
    const T m = row_max(x, n, sgn);
    if (!log) {
      const T sum = row_exp_sum<true>(x, n, sgn, m, y);
      row_scale(y, n, T(1) / sum);
    } else {
      const T sum = row_exp_sum<false>(x, n, sgn, m, nullptr);
      row_log_out(x, y, n, sgn, m, V::scalar_log(sum));
    }
  }

  // dx = sgn * y * (g - <g, y>)   or (log)   dx = sgn * (g - exp(y) * sum(g))
  static void softmax_backward_row(const T* y, const T* g, T* dx, int64_t n, bool log, T sgn) {
    const R s = V::set1(sgn);
    int64_t j = 0;
    if (!log) {
      const R d = V::set1(row_dot(g, y, n));
      for (; j + W <= n; j += W) {
        const R yv = V::load(y + j);
        V::store(dx + j, V::mul(s, V::mul(yv, V::sub(V::load(g + j), d))));
      }
      if (j < n) {
        const R yv = V::load_partial(y + j, n - j);
        V::store_partial(dx + j, n - j,
                         V::mul(s, V::mul(yv, V::sub(V::load_partial(g + j, n - j), d))));
      }
    } else {
      const R sg = V::set1(row_dot(g, nullptr, n));
      for (; j + W <= n; j += W) {
        const R e = V::exp(V::load(y + j));
        V::store(dx + j, V::mul(s, V::sub(V::load(g + j), V::mul(e, sg))));
      }
      if (j < n) {
        const R e = V::exp(V::load_partial(y + j, n - j));
        V::store_partial(dx + j, n - j,
                         V::mul(s, V::sub(V::load_partial(g + j, n - j), V::mul(e, sg))));
      }
    }
  }

  // W (or nl < W when !Full) neighbouring positions; element c of lane l at x[c * xd + l].
  template <bool Full>
  struct Strip {
    int nl;
    R ld(const T* p) const { return Full ? V::load(p) : V::load_partial(p, nl); }
    void st(T* p, R v) const {
      if (Full)
        V::store(p, v);
      else
        V::store_partial(p, nl, v);
    }
  };

  template <bool Full>
  static void softmax_strip(Strip<Full> sp, const T* x, int64_t xd, T* y, int64_t yd, int64_t n,
                            bool log, T sgn) {
    const R s = V::set1(sgn);
    R m = V::set1(-kInf);
    for (int64_t c = 0; c < n; ++c) m = V::max(m, V::mul(s, sp.ld(x + c * xd)));
    const R nm = V::sub(V::zero(), m);
    R sum = V::zero();
    for (int64_t c = 0; c < n; ++c) {
      const R e = V::exp(V::fmadd(s, sp.ld(x + c * xd), nm));
      sum = V::add(sum, e);
      if (!log) sp.st(y + c * yd, e);
    }
    if (!log) {
      const R r = V::div(V::set1(T(1)), sum);
      for (int64_t c = 0; c < n; ++c) sp.st(y + c * yd, V::mul(sp.ld(y + c * yd), r));
    } else {
      const R ls = V::log(sum);
      for (int64_t c = 0; c < n; ++c)
        sp.st(y + c * yd, V::sub(V::fmadd(s, sp.ld(x + c * xd), nm), ls));
    }
  }

  template <bool Full>
  static void softmax_backward_strip(Strip<Full> sp, const T* y, int64_t yd, const T* g,
                                     int64_t gd, T* dx, int64_t dd, int64_t n, bool log, T sgn) {
    const R s = V::set1(sgn);
    R acc = V::zero();
    if (!log) {
      for (int64_t c = 0; c < n; ++c) acc = V::fmadd(sp.ld(g + c * gd), sp.ld(y + c * yd), acc);
      for (int64_t c = 0; c < n; ++c) {
        const R yv = sp.ld(y + c * yd);
        sp.st(dx + c * dd, V::mul(s, V::mul(yv, V::sub(sp.ld(g + c * gd), acc))));
      }
    } else {
      for (int64_t c = 0; c < n; ++c) acc = V::add(acc, sp.ld(g + c * gd));
      for (int64_t c = 0; c < n; ++c) {
        const R e = V::exp(sp.ld(y + c * yd));
        sp.st(dx + c * dd, V::mul(s, V::sub(sp.ld(g + c * gd), V::mul(e, acc))));
      }
    }
  }

  // Calls fn(strip, i) for each strip of W positions in [i0, i1) of one outer slice.
  template <class F>
  static void for_strips(int64_t i0, int64_t i1, F&& fn) {
    int64_t i = i0;
    for (; i + W <= i1; i += W) fn(Strip<true>{W}, i);
    if (i < i1) fn(Strip<false>{static_cast<int>(i1 - i)}, i);
  }

  static void softmax_forward_block(const SoftmaxArgs<T>& a, int64_t p0, int64_t p1) {
    const SoftmaxShape& sh = a.shape;
    const T sgn = a.negate ? T(-1) : T(1);
    if (sh.inner == 1) {
      for (int64_t r = p0; r < p1; ++r)
        softmax_row(a.x + r * a.xs.outer, a.out + r * a.os.outer, sh.dim, a.log, sgn);
      return;
    }
    const int64_t o = p0 / sh.inner;
    const T* x = a.x + o * a.xs.outer;
    T* y = a.out + o * a.os.outer;
    for_strips(p0 - o * sh.inner, p1 - o * sh.inner, [&](auto sp, int64_t i) {
      softmax_strip(sp, x + i, a.xs.dim, y + i, a.os.dim, sh.dim, a.log, sgn);
    });
  }

  static void softmax_backward_block(const SoftmaxArgs<T>& a, int64_t p0, int64_t p1) {
    const SoftmaxShape& sh = a.shape;
    const T sgn = a.negate ? T(-1) : T(1);
    if (sh.inner == 1) {
      for (int64_t r = p0; r < p1; ++r)
        softmax_backward_row(a.x + r * a.xs.outer, a.g + r * a.gs.outer, a.out + r * a.os.outer,
                             sh.dim, a.log, sgn);
      return;
    }
    const int64_t o = p0 / sh.inner;
    const T* y = a.x + o * a.xs.outer;
    const T* g = a.g + o * a.gs.outer;
    T* dx = a.out + o * a.os.outer;
    for_strips(p0 - o * sh.inner, p1 - o * sh.inner, [&](auto sp, int64_t i) {
      softmax_backward_strip(sp, y + i, a.xs.dim, g + i, a.gs.dim, dx + i, a.os.dim, sh.dim,
                             a.log, sgn);
    });
  }

  // ---------------------------------------------------------------------------------------
  // Cross-entropy. Per position, after m = max_c x_c and s = sum_c exp(x_c - m), ls = log(s):
  //   lse = m + ls,  lse - x_c = ls - (x_c - m)   (kept in that form: exact for huge logits)
  //   class:  (1-eps) w_t (ls - (x_t - m)) + eps/C (W ls - sum_c w_c (x_c - m))
  //   prob:   S ls - sum_c w_c q_c (x_c - m),   S = sum_c w_c q_c,  q = (1-eps) p + eps/C
  // The finishing arithmetic is per position, so it is done in double.
  // ---------------------------------------------------------------------------------------

  struct RowStats {
    T m;      // max_c x_c
    T sum;    // sum_c exp(x_c - m)
    T wx;     // class mode: sum_c w_c (x_c - m) (only with smoothing); prob: sum w q (x - m)
    T wq;     // prob mode: S = sum_c w_c q_c
  };

  // One pass after the max: sum of exp, and the weighted sums the loss needs.
  static RowStats ce_row_stats(const LossArgs<T>& a, const T* x, const T* prob, bool need_wx) {
    const int64_t n = a.shape.dim;
    RowStats st;
    st.m = row_max(x, n, T(1));
    const R nm = V::set1(-st.m), one_m_eps = V::set1(T(1) - a.smoothing),
            eps_c = V::set1(a.smoothing / T(n));
    const T* w = a.weight;
    R sum = V::zero(), wx = V::zero(), wq = V::zero();
    for (int64_t j = 0; j < n; j += W) {
      const int64_t left = n - j;
      const bool full = left >= W;
      const unsigned keep = first_lanes(left);
      const R d = V::add(full ? V::load(x + j) : V::load_partial(x + j, left), nm);
      sum = V::add(sum, V::select(keep, V::exp(d), V::zero()));
      if (prob) {
        const R p = full ? V::load(prob + j) : V::load_partial(prob + j, left);
        R q = V::fmadd(p, one_m_eps, eps_c);
        if (w) q = V::mul(q, full ? V::load(w + j) : V::load_partial(w + j, left));
        q = V::select(keep, q, V::zero());
        wq = V::add(wq, q);
        wx = V::add(wx, V::select(keep, V::mul(q, d), V::zero()));
      } else if (need_wx) {
        const R wd = w ? V::mul(full ? V::load(w + j) : V::load_partial(w + j, left), d) : d;
        wx = V::add(wx, V::select(keep, wd, V::zero()));
      }
    }
    st.sum = V::hsum(sum);
    st.wx = V::hsum(wx);
    st.wq = V::hsum(wq);
    return st;
  }

  // Loss of one position from its statistics; x_t is the target's logit (class mode).
  static double ce_finish(const LossArgs<T>& a, const RowStats& st, double ls, T x_t, int64_t t,
                          double* weight_out) {
    if (a.target.prob) return st.wq * ls - double(st.wx);
    const double eps = a.smoothing;
    const double wt = a.weight ? double(a.weight[t]) : 1.0;
    *weight_out = wt;
    double loss = (1.0 - eps) * wt * (ls - (double(x_t) - double(st.m)));
    if (eps > 0) loss += eps / double(a.shape.dim) * (a.weight_sum * ls - double(st.wx));
    return loss;
  }

  static LossSums ce_forward_block(const LossArgs<T>& a, int64_t p0, int64_t p1) {
    const SoftmaxShape& sh = a.shape;
    const bool prob = a.target.prob != nullptr;
    const bool need_wx = a.smoothing > 0;
    LossSums sums;
    if (sh.inner == 1) {
      for (int64_t r = p0; r < p1; ++r) {
        const T* x = a.x + r * a.xs.outer;
        int64_t t = 0;
        if (!prob) {
          t = a.target.index[r];
          if (t == a.target.ignore_index) {
            if (a.loss) a.loss[r] = T(0);
            if (a.lse) a.lse[r] = 0;
            continue;
          }
        }
        const RowStats st =
            ce_row_stats(a, x, prob ? a.target.prob + r * a.target.ps.outer : nullptr, need_wx);
        double wt = 0;
        const double ls = dlog(double(st.sum));
        const double loss = ce_finish(a, st, ls, prob ? T(0) : x[t], t, &wt);
        if (a.loss) a.loss[r] = T(loss);
        if (a.lse) a.lse[r] = double(st.m) + ls;
        sums.loss += loss;
        sums.weight += wt;
      }
      return sums;
    }
    const int64_t o = p0 / sh.inner;
    const T* x = a.x + o * a.xs.outer;
    const T* pr = prob ? a.target.prob + o * a.target.ps.outer : nullptr;
    for_strips(p0 - o * sh.inner, p1 - o * sh.inner, [&](auto sp, int64_t i) {
      ce_forward_strip(a, sp, x + i, pr ? pr + i : nullptr, o * sh.inner + i, need_wx, &sums);
    });
    return sums;
  }

  template <bool Full>
  static void ce_forward_strip(const LossArgs<T>& a, Strip<Full> sp, const T* x, const T* prob,
                               int64_t pos, bool need_wx, LossSums* sums) {
    const int64_t n = a.shape.dim, xd = a.xs.dim, pd = a.target.ps.dim;
    const T* w = a.weight;
    R m = V::set1(-kInf);
    for (int64_t c = 0; c < n; ++c) m = V::max(m, sp.ld(x + c * xd));
    const R nm = V::sub(V::zero(), m), one_m_eps = V::set1(T(1) - a.smoothing),
            eps_c = V::set1(a.smoothing / T(n));
    R sum = V::zero(), wx = V::zero(), wq = V::zero();
    for (int64_t c = 0; c < n; ++c) {
      const R d = V::add(sp.ld(x + c * xd), nm);
      sum = V::add(sum, V::exp(d));
      if (prob) {
        R q = V::fmadd(sp.ld(prob + c * pd), one_m_eps, eps_c);
        if (w) q = V::mul(q, V::set1(w[c]));
        wq = V::add(wq, q);
        wx = V::fmadd(q, d, wx);
      } else if (need_wx) {
        wx = w ? V::fmadd(V::set1(w[c]), d, wx) : V::add(wx, d);
      }
    }
    alignas(64) T ms[W], ss[W], wxs[W], wqs[W];
    V::store(ms, m), V::store(ss, sum), V::store(wxs, wx), V::store(wqs, wq);
    for (int l = 0; l < sp.nl; ++l) {
      const int64_t p = pos + l;
      int64_t t = 0;
      if (!prob) {
        t = a.target.index[p];
        if (t == a.target.ignore_index) {
          if (a.loss) a.loss[p] = T(0);
          if (a.lse) a.lse[p] = 0;
          continue;
        }
      }
      const RowStats st{ms[l], ss[l], wxs[l], wqs[l]};
      double wt = 0;
      const double ls = dlog(double(st.sum));
      const double loss = ce_finish(a, st, ls, prob ? T(0) : x[t * xd + l], t, &wt);
      if (a.loss) a.loss[p] = T(loss);
      if (a.lse) a.lse[p] = double(st.m) + ls;
      sums->loss += loss;
      sums->weight += wt;
    }
  }

  // Backward coefficients of one position: dx_c = A softmax_c - B_c, with
  //   class: A = g ((1-eps) w_t + eps/C W),  B_c = g eps/C w_c + g (1-eps) w_t [c == t]
  //   prob:  A = g S,                        B_c = g w_c q_c
  // softmax_c = exp((x_c - hi) - lo) where hi + lo = lse split into two T's.
  struct Coef {
    T a, cw, hi, lo;
  };

  static Coef ce_coef(const LossArgs<T>& a, int64_t p, int64_t t, T wq) {
    const double g = double(a.grad[p * a.grad_stride]) * double(a.grad_scale);
    const double eps = a.smoothing, lse = a.lse_in[p];
    Coef k;
    k.hi = T(lse);
    k.lo = T(lse - double(k.hi));
    if (a.target.prob) {
      k.a = T(g * double(wq));
      k.cw = T(g);
    } else {
      const double wt = a.weight ? double(a.weight[t]) : 1.0;
      k.a = T(g * ((1.0 - eps) * wt + eps / double(a.shape.dim) * a.weight_sum));
      k.cw = T(g * eps / double(a.shape.dim));
    }
    return k;
  }

  // The scalar part of B at the target: g (1-eps) w_t.
  static T ce_target_coef(const LossArgs<T>& a, int64_t p, int64_t t) {
    const double g = double(a.grad[p * a.grad_stride]) * double(a.grad_scale);
    const double wt = a.weight ? double(a.weight[t]) : 1.0;
    return T(g * (1.0 - double(a.smoothing)) * wt);
  }

  // S = sum_c w_c q_c of one prob-target row
  static T row_wq(const LossArgs<T>& a, const T* prob) {
    const int64_t n = a.shape.dim;
    const T eps = a.smoothing;
    if (eps == T(0)) return row_dot(prob, a.weight, n);
    // sum_c w_c ((1-eps) p_c + eps/C) = (1-eps) sum w p + eps/C W
    return T((1.0 - double(eps)) * double(row_dot(prob, a.weight, n)) +
             double(eps) / double(n) * a.weight_sum);
  }

  static void ce_backward_row(const LossArgs<T>& a, int64_t r) {
    const int64_t n = a.shape.dim;
    const T* x = a.x + r * a.xs.outer;
    T* dx = a.dx + r * a.dxs.outer;
    const T* prob = a.target.prob ? a.target.prob + r * a.target.ps.outer : nullptr;
    int64_t t = 0;
    if (!prob) {
      t = a.target.index[r];
      if (t == a.target.ignore_index) return row_zero(dx, n);
    }
    const Coef k = ce_coef(a, r, t, prob ? row_wq(a, prob) : T(0));
    const R av = V::set1(k.a), cw = V::set1(k.cw), hi = V::set1(k.hi), lo = V::set1(k.lo),
            one_m_eps = V::set1(T(1) - a.smoothing), eps_c = V::set1(a.smoothing / T(n));
    const T* w = a.weight;
    for (int64_t j = 0; j < n; j += W) {
      const int64_t left = n - j;
      const bool full = left >= W;
      const R xv = full ? V::load(x + j) : V::load_partial(x + j, left);
      const R p = V::exp(V::sub(V::sub(xv, hi), lo));
      R b;  // B_c without the target term
      if (prob) {
        b = V::fmadd(full ? V::load(prob + j) : V::load_partial(prob + j, left), one_m_eps, eps_c);
        if (w) b = V::mul(b, full ? V::load(w + j) : V::load_partial(w + j, left));
        b = V::mul(b, cw);
      } else {
        b = w ? V::mul(cw, full ? V::load(w + j) : V::load_partial(w + j, left)) : cw;
      }
      const R d = V::sub(V::mul(av, p), b);
      if (full)
        V::store(dx + j, d);
      else
        V::store_partial(dx + j, left, d);
    }
    if (!prob) dx[t] -= ce_target_coef(a, r, t);
  }

  template <bool Full>
  static void ce_backward_strip(const LossArgs<T>& a, Strip<Full> sp, const T* x, const T* prob,
                                T* dx, int64_t pos) {
    const int64_t n = a.shape.dim, xd = a.xs.dim, pd = a.target.ps.dim, dd = a.dxs.dim;
    const T* w = a.weight;
    alignas(64) T av[W], cwv[W], hiv[W], lov[W];
    unsigned live = 0;  // lanes that are not ignored
    // Prob mode needs S = sum_c w_c q_c per lane first.
    R wq = V::zero();
    if (prob) {
      const R one_m_eps = V::set1(T(1) - a.smoothing), eps_c = V::set1(a.smoothing / T(n));
      for (int64_t c = 0; c < n; ++c) {
        R q = V::fmadd(sp.ld(prob + c * pd), one_m_eps, eps_c);
        wq = w ? V::fmadd(q, V::set1(w[c]), wq) : V::add(wq, q);
      }
    }
    alignas(64) T wqs[W];
    V::store(wqs, wq);
    for (int l = 0; l < W; ++l) {
      av[l] = cwv[l] = hiv[l] = lov[l] = T(0);
      if (l >= sp.nl) continue;
      const int64_t p = pos + l;
      int64_t t = 0;
      if (!prob) {
        t = a.target.index[p];
        if (t == a.target.ignore_index) continue;
      }
      const Coef k = ce_coef(a, p, t, wqs[l]);
      av[l] = k.a, cwv[l] = k.cw, hiv[l] = k.hi, lov[l] = k.lo;
      live |= 1u << l;
    }
    const R A = V::load(av), CW = V::load(cwv), HI = V::load(hiv), LO = V::load(lov);
    const R one_m_eps = V::set1(T(1) - a.smoothing), eps_c = V::set1(a.smoothing / T(n));
    for (int64_t c = 0; c < n; ++c) {
      const R p = V::exp(V::sub(V::sub(sp.ld(x + c * xd), HI), LO));
      R b;
      if (prob) {
        b = V::fmadd(sp.ld(prob + c * pd), one_m_eps, eps_c);
        if (w) b = V::mul(b, V::set1(w[c]));
        b = V::mul(b, CW);
      } else {
        b = w ? V::mul(CW, V::set1(w[c])) : CW;
      }
      sp.st(dx + c * dd, V::select(live, V::sub(V::mul(A, p), b), V::zero()));
    }
    if (!prob)
      for (int l = 0; l < sp.nl; ++l)
        if (live & (1u << l)) {
          const int64_t t = a.target.index[pos + l];
          dx[t * dd + l] -= ce_target_coef(a, pos + l, t);
        }
  }

  static void ce_backward_block(const LossArgs<T>& a, int64_t p0, int64_t p1) {
    const SoftmaxShape& sh = a.shape;
    if (sh.inner == 1) {
      for (int64_t r = p0; r < p1; ++r) ce_backward_row(a, r);
      return;
    }
    const int64_t o = p0 / sh.inner;
    const T* x = a.x + o * a.xs.outer;
    const T* pr = a.target.prob ? a.target.prob + o * a.target.ps.outer : nullptr;
    T* dx = a.dx + o * a.dxs.outer;
    for_strips(p0 - o * sh.inner, p1 - o * sh.inner, [&](auto sp, int64_t i) {
      ce_backward_strip(a, sp, x + i, pr ? pr + i : nullptr, dx + i, o * sh.inner + i);
    });
  }

  static void exp_array(const T* x, T* y, int64_t n) {
    int64_t j = 0;
    for (; j + W <= n; j += W) V::store(y + j, V::exp(V::load(x + j)));
    if (j < n) V::store_partial(y + j, n - j, V::exp(V::load_partial(x + j, n - j)));
  }

  static KernelTable<T> table() {
    return {&softmax_forward_block, &softmax_backward_block, &ce_forward_block,
            &ce_backward_block, &exp_array};
  }
};

}  // namespace
}  // namespace EMBER_SOFTMAX_ISA
}  // namespace softmax_detail
}  // namespace ember
