// Bindings of the recurrent family: ember._C.{lstm,gru,rnn}_{forward,backward}.
//
// One layer, one direction, a whole sequence (a single cell step is T == 1). x (T, B, I) and
// the weights may have any element strides; hidden states, biases and incoming gradients must
// be C-contiguous (ember.ops.rnn makes them so). Shapes and dtypes are checked here, with the
// GIL held, before any pointer is touched; the kernels run with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings/bind_util.hpp"
#include "bindings/bindings.hpp"
#include "rnn/rnn.hpp"

namespace ember_bind {
namespace {

using ember::rnn::Nonlinearity;
using ember::rnn::SeqGradOutputs;
using ember::rnn::SeqGrads;
using ember::rnn::SeqInput;

std::string shape_of(const std::vector<int64_t>& s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + (s.size() == 1 ? ",)" : ")");
}

using Opt = std::optional<py::array>;

// Everything the forward and backward bindings of one family check in common.
struct Layer {
  const char* op;
  int gates;
  bool is_double = false;
  py::dtype dtype;
  int64_t T = 0, B = 0, I = 0, H = 0;

  // `obj` as an array of this layer's dtype (TypeError otherwise).
  py::array arg(const py::object& obj, const char* name) const {
    if (obj.is_none())
      throw std::invalid_argument(std::string(op) + ": " + name + " must not be None");
    if (!py::isinstance<py::array>(obj))
      throw py::type_error(std::string(op) + ": " + name + " must be a NumPy array");
    py::array a = py::reinterpret_borrow<py::array>(obj);
    if (!a.dtype().is(dtype))
      throw py::type_error(std::string(op) + ": " + name + " has dtype " +
                           std::string(py::str(a.dtype())) + ", expected " +
                           std::string(py::str(dtype)) + " like x");
    return a;
  }
  // The same for an argument that may be None.
  Opt opt(const py::object& obj, const char* name) const {
    if (obj.is_none()) return std::nullopt;
    return arg(obj, name);
  }

  void expect_shape(const py::array& a, const char* name, const std::vector<int64_t>& want,
                    bool contiguous) const {
    bool ok = a.ndim() == static_cast<py::ssize_t>(want.size());
    for (size_t d = 0; ok && d < want.size(); ++d) ok = a.shape(d) == want[d];
    if (!ok)
      throw std::invalid_argument(std::string(op) + ": " + name + " must have shape " +
                                  shape_of(want) + ", got " + shape_str(a));
    if (contiguous && !(a.flags() & py::array::c_style))
      throw std::invalid_argument(std::string(op) + ": " + name + " must be C-contiguous");
    for (py::ssize_t d = 0; d < a.ndim(); ++d) elem_stride(a, d, name);
  }

  // The LSTM and GRU backward read the forward's outputs only as the hidden states feeding
  // steps 1..T-1, so a single step (a cell) may pass None.
  void require_out_if_steps(const Opt& out, const std::vector<int64_t>& shape) const {
    if (out)
      expect_shape(*out, "out", shape, true);
    else if (T > 1)
      throw std::invalid_argument(std::string(op) + ": out (the forward's output) is required "
                                  "when the sequence has more than one step");
  }

  // Reads x, h0, w_ih, w_hh (and biases when given) and sets T, B, I, H.
  void check_inputs(const py::array& x, const py::array& h0, const py::array& w_ih,
                    const py::array& w_hh) {
    if (x.ndim() != 3)
      throw std::invalid_argument(std::string(op) + ": x must be 3-D (T, B, I), got " +
                                  shape_str(x));
    if (w_hh.ndim() != 2 || w_ih.ndim() != 2)
      throw std::invalid_argument(std::string(op) + ": w_ih and w_hh must be 2-D, got " +
                                  shape_str(w_ih) + " and " + shape_str(w_hh));
    T = x.shape(0), B = x.shape(1), I = x.shape(2), H = w_hh.shape(1);
    int64_t total = 0;
    if (__builtin_mul_overflow(T, B, &total) || __builtin_mul_overflow(total, 4 * H, &total) ||
        __builtin_mul_overflow(total, static_cast<int64_t>(8), &total) ||
        __builtin_mul_overflow(gates * H, std::max<int64_t>(I, H), &total))
      throw std::invalid_argument(std::string(op) + ": sizes too large");
    expect_shape(x, "x", {T, B, I}, false);
    expect_shape(w_ih, "w_ih", {gates * H, I}, false);
    expect_shape(w_hh, "w_hh", {gates * H, H}, false);
    expect_shape(h0, "h0", {B, H}, true);
  }

  template <typename U>
  SeqInput<U> input(const py::array& x, const py::array& h0, const py::array& w_ih,
                    const py::array& w_hh, const Opt& b_ih, const Opt& b_hh) const {
    SeqInput<U> in;
    in.T_ = T, in.B = B, in.I = I, in.H = H;
    in.x = static_cast<const U*>(x.data());
    in.x_ts = elem_stride(x, 0, "x"), in.x_bs = elem_stride(x, 1, "x");
    in.x_is = elem_stride(x, 2, "x");
    in.w_ih = static_cast<const U*>(w_ih.data());
    in.w_ih_rs = elem_stride(w_ih, 0, "w_ih"), in.w_ih_cs = elem_stride(w_ih, 1, "w_ih");
    in.w_hh = static_cast<const U*>(w_hh.data());
    in.w_hh_rs = elem_stride(w_hh, 0, "w_hh"), in.w_hh_cs = elem_stride(w_hh, 1, "w_hh");
    in.b_ih = b_ih ? static_cast<const U*>(b_ih->data()) : nullptr;
    in.b_hh = b_hh ? static_cast<const U*>(b_hh->data()) : nullptr;
    in.h0 = static_cast<const U*>(h0.data());
    return in;
  }

  py::array empty(const std::vector<int64_t>& shape) const {
    return py::array(dtype, std::vector<py::ssize_t>(shape.begin(), shape.end()));
  }
};

Layer make_layer(const char* op, int gates, const py::object& x_obj) {
  Layer L;
  L.op = op;
  L.gates = gates;
  if (!py::isinstance<py::array>(x_obj))
    throw py::type_error(std::string(op) + ": x must be a NumPy array");
  py::array x = py::reinterpret_borrow<py::array>(x_obj);
  if (!is_float(x, &L.is_double))
    throw py::type_error(std::string(op) + ": x must be float32 or float64, got " +
                         std::string(py::str(x.dtype())));
  L.dtype = x.dtype();
  return L;
}

template <typename U>
U* ptr(py::array& a) {
  return static_cast<U*>(a.mutable_data());
}
template <typename U>
U* ptr(Opt& a) {
  return a ? static_cast<U*>(a->mutable_data()) : nullptr;
}
template <typename U>
const U* cptr(const py::array& a) {
  return static_cast<const U*>(a.data());
}
template <typename U>
const U* cptr(const Opt& a) {
  return a ? static_cast<const U*>(a->data()) : nullptr;
}

py::object or_none(const Opt& a) { return a ? py::object(*a) : py::object(py::none()); }

Nonlinearity parse_nonlinearity(const std::string& s) {
  if (s == "tanh") return Nonlinearity::Tanh;
  if (s == "relu") return Nonlinearity::Relu;
  throw std::invalid_argument("rnn: Unknown nonlinearity '" + s + "' (expected 'tanh' or 'relu')");
}

// ---------------------------------------------------------------------------------------------
// LSTM
// ---------------------------------------------------------------------------------------------
py::tuple lstm_forward(py::object x_o, py::object h0_o, py::object c0_o, py::object w_ih_o,
                       py::object w_hh_o, py::object b_ih_o, py::object b_hh_o) {
  Layer L = make_layer("lstm_forward", 4, x_o);
  py::array x = L.arg(x_o, "x"), h0 = L.arg(h0_o, "h0"), c0 = L.arg(c0_o, "c0");
  py::array w_ih = L.arg(w_ih_o, "w_ih"), w_hh = L.arg(w_hh_o, "w_hh");
  Opt b_ih = L.opt(b_ih_o, "b_ih"), b_hh = L.opt(b_hh_o, "b_hh");
  L.check_inputs(x, h0, w_ih, w_hh);
  L.expect_shape(c0, "c0", {L.B, L.H}, true);
  if (b_ih) L.expect_shape(*b_ih, "b_ih", {4 * L.H}, true);
  if (b_hh) L.expect_shape(*b_hh, "b_hh", {4 * L.H}, true);

  py::array out = L.empty({L.T, L.B, L.H}), cs = L.empty({L.T, L.B, L.H});
  py::array gates = L.empty({L.T, L.B, 4 * L.H});
  auto run = [&](auto zero) {
    using U = decltype(zero);
    const SeqInput<U> in = L.input<U>(x, h0, w_ih, w_hh, b_ih, b_hh);
    const U* c0p = cptr<U>(c0);
    U *o = ptr<U>(out), *c = ptr<U>(cs), *g = ptr<U>(gates);
    py::gil_scoped_release release;
    ember::rnn::lstm_forward<U>(in, c0p, o, c, g);
  };
  L.is_double ? run(0.0) : run(0.0f);
  return py::make_tuple(out, cs, gates);
}

py::tuple lstm_backward(py::object x_o, py::object h0_o, py::object c0_o, py::object w_ih_o,
                        py::object w_hh_o, py::object out_o, py::object cs_o, py::object gates_o,
                        py::object d_out_o, py::object d_hn_o, py::object d_cn_o, bool need_x,
                        bool need_h0, bool need_c0, bool need_w_ih, bool need_w_hh,
                        bool need_b) {
  Layer L = make_layer("lstm_backward", 4, x_o);
  py::array x = L.arg(x_o, "x"), h0 = L.arg(h0_o, "h0"), c0 = L.arg(c0_o, "c0");
  py::array w_ih = L.arg(w_ih_o, "w_ih"), w_hh = L.arg(w_hh_o, "w_hh");
  Opt out = L.opt(out_o, "out");
  py::array cs = L.arg(cs_o, "cs"), gates = L.arg(gates_o, "gates");
  Opt d_out = L.opt(d_out_o, "d_out"), d_hn = L.opt(d_hn_o, "d_hn");
  Opt d_cn = L.opt(d_cn_o, "d_cn");
  L.check_inputs(x, h0, w_ih, w_hh);
  const int64_t T = L.T, B = L.B, I = L.I, H = L.H;
  L.expect_shape(c0, "c0", {B, H}, true);
  L.require_out_if_steps(out, {T, B, H});
  L.expect_shape(cs, "cs", {T, B, H}, true);
  L.expect_shape(gates, "gates", {T, B, 4 * H}, true);
  if (d_out) L.expect_shape(*d_out, "d_out", {T, B, H}, true);
  if (d_hn) L.expect_shape(*d_hn, "d_hn", {B, H}, true);
  if (d_cn) L.expect_shape(*d_cn, "d_cn", {B, H}, true);

  Opt dx, dh0, dc0, dw_ih, dw_hh, db;
  if (need_x) dx = L.empty({T, B, I});
  if (need_h0) dh0 = L.empty({B, H});
  if (need_c0) dc0 = L.empty({B, H});
  if (need_w_ih) dw_ih = L.empty({4 * H, I});
  if (need_w_hh) dw_hh = L.empty({4 * H, H});
  if (need_b) db = L.empty({4 * H});
  auto run = [&](auto zero) {
    using U = decltype(zero);
    const SeqInput<U> in = L.input<U>(x, h0, w_ih, w_hh, std::nullopt, std::nullopt);
    SeqGradOutputs<U> dy;
    dy.d_out = cptr<U>(d_out), dy.d_hn = cptr<U>(d_hn), dy.d_cn = cptr<U>(d_cn);
    SeqGrads<U> g;
    g.dx = ptr<U>(dx), g.dh0 = ptr<U>(dh0), g.dc0 = ptr<U>(dc0);
    g.dw_ih = ptr<U>(dw_ih), g.dw_hh = ptr<U>(dw_hh), g.db_ih = ptr<U>(db);
    const U *c0p = cptr<U>(c0), *o = cptr<U>(out), *c = cptr<U>(cs), *gt = cptr<U>(gates);
    py::gil_scoped_release release;
    ember::rnn::lstm_backward<U>(in, c0p, o, c, gt, dy, g);
  };
  L.is_double ? run(0.0) : run(0.0f);
  return py::make_tuple(or_none(dx), or_none(dh0), or_none(dc0), or_none(dw_ih), or_none(dw_hh),
                        or_none(db));
}

// ---------------------------------------------------------------------------------------------
// GRU
// ---------------------------------------------------------------------------------------------
py::tuple gru_forward(py::object x_o, py::object h0_o, py::object w_ih_o, py::object w_hh_o,
                      py::object b_ih_o, py::object b_hh_o) {
  Layer L = make_layer("gru_forward", 3, x_o);
  py::array x = L.arg(x_o, "x"), h0 = L.arg(h0_o, "h0");
  py::array w_ih = L.arg(w_ih_o, "w_ih"), w_hh = L.arg(w_hh_o, "w_hh");
  Opt b_ih = L.opt(b_ih_o, "b_ih"), b_hh = L.opt(b_hh_o, "b_hh");
  L.check_inputs(x, h0, w_ih, w_hh);
  if (b_ih) L.expect_shape(*b_ih, "b_ih", {3 * L.H}, true);
  if (b_hh) L.expect_shape(*b_hh, "b_hh", {3 * L.H}, true);

  py::array out = L.empty({L.T, L.B, L.H}), ws = L.empty({L.T, L.B, 4 * L.H});
  auto run = [&](auto zero) {
    using U = decltype(zero);
    const SeqInput<U> in = L.input<U>(x, h0, w_ih, w_hh, b_ih, b_hh);
    U *o = ptr<U>(out), *w = ptr<U>(ws);
    py::gil_scoped_release release;
    ember::rnn::gru_forward<U>(in, o, w);
  };
  L.is_double ? run(0.0) : run(0.0f);
  return py::make_tuple(out, ws);
}

py::tuple gru_backward(py::object x_o, py::object h0_o, py::object w_ih_o, py::object w_hh_o,
                       py::object out_o, py::object ws_o, py::object d_out_o, py::object d_hn_o,
                       bool need_x, bool need_h0, bool need_w_ih, bool need_w_hh, bool need_b) {
  Layer L = make_layer("gru_backward", 3, x_o);
  py::array x = L.arg(x_o, "x"), h0 = L.arg(h0_o, "h0");
  py::array w_ih = L.arg(w_ih_o, "w_ih"), w_hh = L.arg(w_hh_o, "w_hh");
  Opt out = L.opt(out_o, "out");
  py::array ws = L.arg(ws_o, "ws");
  Opt d_out = L.opt(d_out_o, "d_out"), d_hn = L.opt(d_hn_o, "d_hn");
  L.check_inputs(x, h0, w_ih, w_hh);
  const int64_t T = L.T, B = L.B, I = L.I, H = L.H;
  L.require_out_if_steps(out, {T, B, H});
  L.expect_shape(ws, "ws", {T, B, 4 * H}, true);
  if (d_out) L.expect_shape(*d_out, "d_out", {T, B, H}, true);
  if (d_hn) L.expect_shape(*d_hn, "d_hn", {B, H}, true);

  Opt dx, dh0, dw_ih, dw_hh, db_ih, db_hh;
  if (need_x) dx = L.empty({T, B, I});
  if (need_h0) dh0 = L.empty({B, H});
  if (need_w_ih) dw_ih = L.empty({3 * H, I});
  if (need_w_hh) dw_hh = L.empty({3 * H, H});
  if (need_b) db_ih = L.empty({3 * H}), db_hh = L.empty({3 * H});
  auto run = [&](auto zero) {
    using U = decltype(zero);
    const SeqInput<U> in = L.input<U>(x, h0, w_ih, w_hh, std::nullopt, std::nullopt);
    SeqGradOutputs<U> dy;
    dy.d_out = cptr<U>(d_out), dy.d_hn = cptr<U>(d_hn);
    SeqGrads<U> g;
    g.dx = ptr<U>(dx), g.dh0 = ptr<U>(dh0), g.dw_ih = ptr<U>(dw_ih), g.dw_hh = ptr<U>(dw_hh);
    g.db_ih = ptr<U>(db_ih), g.db_hh = ptr<U>(db_hh);
    const U *o = cptr<U>(out), *w = cptr<U>(ws);
    py::gil_scoped_release release;
    ember::rnn::gru_backward<U>(in, o, w, dy, g);
  };
  L.is_double ? run(0.0) : run(0.0f);
  return py::make_tuple(or_none(dx), or_none(dh0), or_none(dw_ih), or_none(dw_hh),
                        or_none(db_ih), or_none(db_hh));
}

// ---------------------------------------------------------------------------------------------
// Elman RNN
// ---------------------------------------------------------------------------------------------
py::array rnn_forward(py::object x_o, py::object h0_o, py::object w_ih_o, py::object w_hh_o,
                      py::object b_ih_o, py::object b_hh_o, const std::string& nonlinearity) {
  const Nonlinearity act = parse_nonlinearity(nonlinearity);
  Layer L = make_layer("rnn_forward", 1, x_o);
  py::array x = L.arg(x_o, "x"), h0 = L.arg(h0_o, "h0");
  py::array w_ih = L.arg(w_ih_o, "w_ih"), w_hh = L.arg(w_hh_o, "w_hh");
  Opt b_ih = L.opt(b_ih_o, "b_ih"), b_hh = L.opt(b_hh_o, "b_hh");
  L.check_inputs(x, h0, w_ih, w_hh);
  if (b_ih) L.expect_shape(*b_ih, "b_ih", {L.H}, true);
  if (b_hh) L.expect_shape(*b_hh, "b_hh", {L.H}, true);

  py::array out = L.empty({L.T, L.B, L.H});
  auto run = [&](auto zero) {
    using U = decltype(zero);
    const SeqInput<U> in = L.input<U>(x, h0, w_ih, w_hh, b_ih, b_hh);
    U* o = ptr<U>(out);
    py::gil_scoped_release release;
    ember::rnn::rnn_forward<U>(in, act, o);
  };
  L.is_double ? run(0.0) : run(0.0f);
  return out;
}

py::tuple rnn_backward(py::object x_o, py::object h0_o, py::object w_ih_o, py::object w_hh_o,
                       py::object out_o, py::object d_out_o, py::object d_hn_o,
                       const std::string& nonlinearity, bool need_x, bool need_h0,
                       bool need_w_ih, bool need_w_hh, bool need_b) {
  const Nonlinearity act = parse_nonlinearity(nonlinearity);
  Layer L = make_layer("rnn_backward", 1, x_o);
  py::array x = L.arg(x_o, "x"), h0 = L.arg(h0_o, "h0");
  py::array w_ih = L.arg(w_ih_o, "w_ih"), w_hh = L.arg(w_hh_o, "w_hh");
  py::array out = L.arg(out_o, "out");
  Opt d_out = L.opt(d_out_o, "d_out"), d_hn = L.opt(d_hn_o, "d_hn");
  L.check_inputs(x, h0, w_ih, w_hh);
  const int64_t T = L.T, B = L.B, I = L.I, H = L.H;
  L.expect_shape(out, "out", {T, B, H}, true);
  if (d_out) L.expect_shape(*d_out, "d_out", {T, B, H}, true);
  if (d_hn) L.expect_shape(*d_hn, "d_hn", {B, H}, true);

  Opt dx, dh0, dw_ih, dw_hh, db;
  if (need_x) dx = L.empty({T, B, I});
  if (need_h0) dh0 = L.empty({B, H});
  if (need_w_ih) dw_ih = L.empty({H, I});
  if (need_w_hh) dw_hh = L.empty({H, H});
  if (need_b) db = L.empty({H});
  auto run = [&](auto zero) {
    using U = decltype(zero);
    const SeqInput<U> in = L.input<U>(x, h0, w_ih, w_hh, std::nullopt, std::nullopt);
    SeqGradOutputs<U> dy;
    dy.d_out = cptr<U>(d_out), dy.d_hn = cptr<U>(d_hn);
    SeqGrads<U> g;
    g.dx = ptr<U>(dx), g.dh0 = ptr<U>(dh0), g.dw_ih = ptr<U>(dw_ih), g.dw_hh = ptr<U>(dw_hh);
    g.db_ih = ptr<U>(db);
    const U* o = cptr<U>(out);
    py::gil_scoped_release release;
    ember::rnn::rnn_backward<U>(in, act, o, dy, g);
  };
  L.is_double ? run(0.0) : run(0.0f);
  return py::make_tuple(or_none(dx), or_none(dh0), or_none(dw_ih), or_none(dw_hh), or_none(db));
}

}  // namespace

void bind_rnn(py::module_& m) {
  using py::arg;
  m.def("lstm_forward", &lstm_forward, arg("x"), arg("h0"), arg("c0"), arg("w_ih"), arg("w_hh"),
        arg("b_ih").none(true), arg("b_hh").none(true),
        "LSTM over x (T, B, I) from (h0, c0) (B, H): returns out (T, B, H), cs (T, B, H) and "
        "gates (T, B, 4H) = the activations i, f, g, o of every step.");
  m.def("lstm_backward", &lstm_backward, arg("x"), arg("h0"), arg("c0"), arg("w_ih"),
        arg("w_hh"), arg("out"), arg("cs"), arg("gates"), arg("d_out").none(true),
        arg("d_hn").none(true), arg("d_cn").none(true), arg("need_x"), arg("need_h0"),
        arg("need_c0"), arg("need_w_ih"), arg("need_w_hh"), arg("need_b"),
        "Gradients (dx, dh0, dc0, dw_ih, dw_hh, db) of an lstm_forward, None where not needed; "
        "db is the gradient of either bias.");
  m.def("gru_forward", &gru_forward, arg("x"), arg("h0"), arg("w_ih"), arg("w_hh"),
        arg("b_ih").none(true), arg("b_hh").none(true),
        "GRU over x (T, B, I) from h0 (B, H): returns out (T, B, H) and ws (T, B, 4H) = r, z, n "
        "and W_hn h + b_hn of every step.");
  m.def("gru_backward", &gru_backward, arg("x"), arg("h0"), arg("w_ih"), arg("w_hh"), arg("out"),
        arg("ws"), arg("d_out").none(true), arg("d_hn").none(true), arg("need_x"),
        arg("need_h0"), arg("need_w_ih"), arg("need_w_hh"), arg("need_b"),
        "Gradients (dx, dh0, dw_ih, dw_hh, db_ih, db_hh) of a gru_forward, None where not "
        "needed.");
  m.def("rnn_forward", &rnn_forward, arg("x"), arg("h0"), arg("w_ih"), arg("w_hh"),
        arg("b_ih").none(true), arg("b_hh").none(true), arg("nonlinearity"),
        "Elman RNN (tanh or relu) over x (T, B, I) from h0 (B, H): returns out (T, B, H).");
  m.def("rnn_backward", &rnn_backward, arg("x"), arg("h0"), arg("w_ih"), arg("w_hh"), arg("out"),
        arg("d_out").none(true), arg("d_hn").none(true), arg("nonlinearity"), arg("need_x"),
        arg("need_h0"), arg("need_w_ih"), arg("need_w_hh"), arg("need_b"),
        "Gradients (dx, dh0, dw_ih, dw_hh, db) of an rnn_forward, None where not needed; db is "
        "the gradient of either bias.");
}

}  // namespace ember_bind
