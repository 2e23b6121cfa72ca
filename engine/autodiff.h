// Reverse-mode autodiff on the graph: appends backward nodes (Phase::kBackward) after the
// forward ones. Each op's rule adds ordinary nodes (conv2d_backward_data, ...), so the
// backward pass is planned and executed like the forward. A tensor used several times
// gets the sum of its gradient contributions through add nodes. Integer tensors, inputs,
// constants and state get no gradient; only tensors that depend on a parameter do.
#pragma once

#include <unordered_map>

#include "engine/graph.h"

namespace locdet {

struct Gradients {
  std::unordered_map<int, Value> of;  // tensor id -> its gradient
  Value operator[](Value v) const {
    auto it = of.find(v.id);
    return it == of.end() ? Value{} : it->second;
  }
};

// loss must have one element. Returns the gradient of every tensor that needs one.
Gradients build_backward(Graph& g, Value loss);

}  // namespace locdet
