// oneDNN convolution (see conv_onednn.h). oneDNN 2.x API (Debian 12 ships 2.6): an op
// descriptor, a primitive descriptor (the backward ones hinted by the forward one), the
// primitive. Everything is created in the constructor; a pass only points the memory objects
// at the caller's tensors and the workspace (set_data_handle) and executes the reorders and
// the primitive with argument maps built once.
#include "kernels/cpu/conv_onednn.h"

#include <cstdlib>
#include <string>
#include <utility>

#include "kernels/base/error.h"

#ifdef LOCDET_WITH_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#include <vector>
#endif

namespace locdet::cpu {

bool onednn_built() {
#ifdef LOCDET_WITH_ONEDNN
  return true;
#else
  return false;
#endif
}

CpuConvEngine cpu_conv_engine() {
  const char* value = std::getenv("LOCDET_CPU_CONV");
  if (!value || !*value) return onednn_built() ? CpuConvEngine::kOnednn : CpuConvEngine::kReference;
  const std::string v(value);
  if (v == "reference") return CpuConvEngine::kReference;
  if (v == "onednn") {
    LOCDET_CHECK(onednn_built(),
                 "LOCDET_CPU_CONV=onednn, but this build has no oneDNN: install libdnnl-dev "
                 "(tools/bootstrap.sh) and configure with -DLOCDET_ONEDNN=ON, or unset LOCDET_CPU_CONV");
    return CpuConvEngine::kOnednn;
  }
  fail("LOCDET_CPU_CONV='", v,
       "' names no CPU convolution engine: use 'onednn' (the default) or 'reference' (im2col + OpenBLAS)");
}

namespace {

const char* pass_name(ConvPass pass) {
  switch (pass) {
    case ConvPass::kForward:
      return "forward";
    case ConvPass::kBackwardData:
      return "backward-data";
    case ConvPass::kBackwardFilter:
      return "backward-filter";
  }
  return "?";
}

}  // namespace

#ifdef LOCDET_WITH_ONEDNN

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

constexpr size_t kAlign = 64;  // oneDNN's preferred alignment for its buffers
size_t align_up(size_t bytes) {
  return (bytes + kAlign - 1) / kAlign * kAlign;
}

// One operand of the primitive: the caller's plain tensor and, when oneDNN chose another
// layout, a copy in the workspace with the reorder between the two.
struct Operand {
  bool output = false;
  memory user;   // plain layout, pointed at the caller's tensor on each call
  memory inner;  // what the primitive reads or writes: `user` itself, or the copy
  dnnl::reorder reorder;
  std::unordered_map<int, memory> reorder_args;
  size_t offset = 0;  // of the copy in the workspace
  bool copied = false;
};

}  // namespace

struct OnednnConv2d::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::primitive conv;
  std::string implementation;
  std::vector<Operand> operands;  // in the order of the pass's pointer arguments
  std::unordered_map<int, memory> args;
  memory scratchpad;
  size_t workspace_bytes = 0;

  // Adds an operand with plain layout `tag`, as the primitive wants it (`wanted`).
  void add(int arg, const memory::desc& wanted, const memory::dims& dims, Tag tag, bool output) {
    Operand op;
    op.output = output;
    op.user = memory({dims, memory::data_type::f32, tag}, engine, DNNL_MEMORY_NONE);
    if (wanted == op.user.get_desc()) {
      op.inner = op.user;
    } else {
      op.copied = true;
      op.offset = workspace_bytes;
      workspace_bytes += align_up(wanted.get_size());
      op.inner = memory(wanted, engine, DNNL_MEMORY_NONE);
      memory& from = output ? op.inner : op.user;
      memory& to = output ? op.user : op.inner;
      op.reorder = dnnl::reorder(from, to);
      op.reorder_args = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    }
    args.emplace(arg, op.inner);
    operands.push_back(std::move(op));
  }

  template <class Primitive>
  void set_primitive(const typename Primitive::primitive_desc& pd) {
    implementation = pd.impl_info_str();
    // oneDNN's naive loops ("ref:any") would be far slower than our im2col + gemm.
    LOCDET_CHECK(implementation.rfind("ref", 0) != 0, "oneDNN offers only its naive implementation '",
                 implementation, "'");
    conv = Primitive(pd);
    workspace_bytes = align_up(pd.scratchpad_desc().get_size());
    if (pd.scratchpad_desc().get_size() > 0) {
      scratchpad = memory(pd.scratchpad_desc(), engine, DNNL_MEMORY_NONE);
      args.emplace(DNNL_ARG_SCRATCHPAD, scratchpad);
    }
  }

  void run(std::initializer_list<const void*> pointers, void* workspace) {
    auto* ws = static_cast<std::byte*>(workspace);
    try {
      if (scratchpad) scratchpad.set_data_handle(ws);
      size_t i = 0;
      for (const void* p : pointers) {
        Operand& op = operands[i++];
        op.user.set_data_handle(const_cast<void*>(p));  // inputs are only read
        if (op.copied) op.inner.set_data_handle(ws + op.offset);
      }
      for (Operand& op : operands)
        if (op.copied && !op.output) op.reorder.execute(stream, op.reorder_args);
      conv.execute(stream, args);
      for (Operand& op : operands)
        if (op.copied && op.output) op.reorder.execute(stream, op.reorder_args);
      stream.wait();
    } catch (const dnnl::error& e) {
      fail("oneDNN convolution (", implementation, ") failed: ", e.what());
    }
  }
};

OnednnConv2d::OnednnConv2d(const Conv2dDims& d, ConvPass pass, bool with_bias)
    : dims_(d), pass_(pass), impl_(std::make_unique<Impl>()) {
  conv2d_workspace_elems(d);  // the reference's dimension checks, with its messages
  using dnnl::algorithm;
  using dnnl::prop_kind;
  const memory::dims x_dims{d.n, d.c, d.h, d.w}, w_dims{d.k, d.c, d.r, d.s},
      y_dims{d.n, d.k, d.out_h(), d.out_w()}, b_dims{d.k}, strides{d.stride, d.stride}, pads{d.pad, d.pad};
  const auto f32 = memory::data_type::f32;
  const memory::desc x_any(x_dims, f32, Tag::any), w_any(w_dims, f32, Tag::any), y_any(y_dims, f32, Tag::any),
      bias(b_dims, f32, Tag::x), none;
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  Impl& m = *impl_;
  try {
    // The backward passes need the forward primitive descriptor as a hint.
    const dnnl::convolution_forward::primitive_desc fwd(
        {prop_kind::forward_training, algorithm::convolution_direct, x_any, w_any, with_bias ? bias : none,
         y_any, strides, pads, pads},
        attr, m.engine);
    if (pass == ConvPass::kForward) {
      m.set_primitive<dnnl::convolution_forward>(fwd);
      m.add(DNNL_ARG_SRC, fwd.src_desc(), x_dims, Tag::nchw, false);
      m.add(DNNL_ARG_WEIGHTS, fwd.weights_desc(), w_dims, Tag::oihw, false);
      if (with_bias) m.add(DNNL_ARG_BIAS, fwd.bias_desc(), b_dims, Tag::x, false);
      m.add(DNNL_ARG_DST, fwd.dst_desc(), y_dims, Tag::nchw, true);
    } else if (pass == ConvPass::kBackwardData) {
      LOCDET_CHECK(!with_bias, "the backward-data pass has no bias");
      const dnnl::convolution_backward_data::primitive_desc bwd(
          {algorithm::convolution_direct, x_any, w_any, y_any, strides, pads, pads}, attr, m.engine, fwd);
      m.set_primitive<dnnl::convolution_backward_data>(bwd);
      m.add(DNNL_ARG_DIFF_DST, bwd.diff_dst_desc(), y_dims, Tag::nchw, false);
      m.add(DNNL_ARG_WEIGHTS, bwd.weights_desc(), w_dims, Tag::oihw, false);
      m.add(DNNL_ARG_DIFF_SRC, bwd.diff_src_desc(), x_dims, Tag::nchw, true);
    } else {
      const dnnl::convolution_backward_weights::primitive_desc bwd(
          {algorithm::convolution_direct, x_any, w_any, with_bias ? bias : none, y_any, strides, pads, pads},
          attr, m.engine, fwd);
      m.set_primitive<dnnl::convolution_backward_weights>(bwd);
      m.add(DNNL_ARG_SRC, bwd.src_desc(), x_dims, Tag::nchw, false);
      m.add(DNNL_ARG_DIFF_DST, bwd.diff_dst_desc(), y_dims, Tag::nchw, false);
      m.add(DNNL_ARG_DIFF_WEIGHTS, bwd.diff_weights_desc(), w_dims, Tag::oihw, true);
      if (with_bias) m.add(DNNL_ARG_DIFF_BIAS, bwd.diff_bias_desc(), b_dims, Tag::x, true);
    }
  } catch (const std::exception& e) {  // dnnl::error, or Error from set_primitive
    fail("oneDNN cannot run the convolution ", pass_name(pass), " pass (n=", d.n, " c=", d.c, " h=", d.h,
         " w=", d.w, " k=", d.k, " r=", d.r, " s=", d.s, " stride=", d.stride, " pad=", d.pad,
         "): ", e.what());
  }
}

size_t OnednnConv2d::workspace_bytes() const {
  return impl_->workspace_bytes;
}

std::string OnednnConv2d::implementation() const {
  return impl_->implementation;
}

void OnednnConv2d::forward(const float* x, const float* w, const float* bias, float* y, void* workspace) {
  LOCDET_CHECK(pass_ == ConvPass::kForward, "OnednnConv2d built for the ", pass_name(pass_),
               " pass was asked for the forward pass");
  const bool with_bias = impl_->args.count(DNNL_ARG_BIAS) > 0;
  LOCDET_CHECK((bias != nullptr) == with_bias, "OnednnConv2d forward: built ", with_bias ? "with" : "without",
               " a bias but called ", bias ? "with" : "without", " one");
  if (with_bias) return impl_->run({x, w, bias, y}, workspace);
  impl_->run({x, w, y}, workspace);
}

void OnednnConv2d::backward_data(const float* dy, const float* w, float* dx, void* workspace) {
  LOCDET_CHECK(pass_ == ConvPass::kBackwardData, "OnednnConv2d built for the ", pass_name(pass_),
               " pass was asked for the backward-data pass");
  impl_->run({dy, w, dx}, workspace);
}

void OnednnConv2d::backward_filter(const float* x, const float* dy, float* dw, float* dbias,
                                   void* workspace) {
  LOCDET_CHECK(pass_ == ConvPass::kBackwardFilter, "OnednnConv2d built for the ", pass_name(pass_),
               " pass was asked for the backward-filter pass");
  const bool with_bias = impl_->args.count(DNNL_ARG_DIFF_BIAS) > 0;
  LOCDET_CHECK((dbias != nullptr) == with_bias, "OnednnConv2d backward-filter: built ",
               with_bias ? "with" : "without", " a bias gradient but called ", dbias ? "with" : "without",
               " one");
  if (with_bias) return impl_->run({x, dy, dw, dbias}, workspace);
  impl_->run({x, dy, dw}, workspace);
}

#else  // no oneDNN in this build

struct OnednnConv2d::Impl {};

OnednnConv2d::OnednnConv2d(const Conv2dDims& d, ConvPass pass, bool) : dims_(d), pass_(pass) {
  fail("this build has no oneDNN (configured with -DLOCDET_ONEDNN=OFF); the convolution ", pass_name(pass),
       " pass runs on the reference");
}
size_t OnednnConv2d::workspace_bytes() const {
  return 0;
}
std::string OnednnConv2d::implementation() const {
  return "";
}
void OnednnConv2d::forward(const float*, const float*, const float*, float*, void*) {}
void OnednnConv2d::backward_data(const float*, const float*, float*, void*) {}
void OnednnConv2d::backward_filter(const float*, const float*, float*, float*, void*) {}

#endif

OnednnConv2d::~OnednnConv2d() = default;
OnednnConv2d::OnednnConv2d(OnednnConv2d&& other) noexcept = default;
OnednnConv2d& OnednnConv2d::operator=(OnednnConv2d&& other) noexcept = default;

}  // namespace locdet::cpu
