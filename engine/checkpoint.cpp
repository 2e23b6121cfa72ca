#include "engine/checkpoint.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "engine/optim.h"
#include "kernels/base/atomic_file.h"
#include "kernels/base/error.h"

namespace locdet {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // the safetensors library's own limit

DType parse_dtype(const std::string& s, const std::string& path, const std::string& name) {
  if (s == "F32") return DType::kF32;
  if (s == "F64") return DType::kF64;
  if (s == "I32") return DType::kI32;
  if (s == "I64") return DType::kI64;
  fail("checkpoint ", path, ": tensor '", name, "' has dtype ", s, "; supported: F32, F64, I32, I64");
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < s.size(); ++i) out << (i ? ", " : "") << s[i];
  out << "]";
  return out.str();
}

// A JSON list of non-negative integers. nlohmann's get<std::vector<int64_t>>() would cast
// 1e30 or -1.5 to an integer, which is undefined behaviour (found by fuzzing).
std::vector<int64_t> integer_list(const nlohmann::json& j, const std::string& path, const std::string& name,
                                  const char* field) {
  LOCDET_CHECK(j.is_array(), "checkpoint ", path, ": tensor '", name, "' has a ", field,
               " that is not a list");
  std::vector<int64_t> out;
  for (const auto& item : j) {
    LOCDET_CHECK(item.is_number_integer() && (item.is_number_unsigned() || item.get<int64_t>() >= 0) &&
                     (!item.is_number_unsigned() || item.get<uint64_t>() <= (uint64_t{1} << 62)),
                 "checkpoint ", path, ": tensor '", name, "' has a ", field,
                 " entry that is not a non-negative integer: ", item.dump());
    out.push_back(item.is_number_unsigned() ? static_cast<int64_t>(item.get<uint64_t>())
                                            : item.get<int64_t>());
  }
  return out;
}

bool is_optim(const std::string& name) {
  return name.rfind("optim.", 0) == 0;
}

}  // namespace

void write_safetensors(const std::string& path, const SafeTensorsFile& file) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  size_t offset = 0;
  for (const auto& [name, t] : file.tensors) {
    int64_t numel = 1;
    for (int64_t d : t.shape) numel *= d;
    LOCDET_CHECK(t.data.size() == numel * dtype_size(t.dtype), "tensor '", name, "': ", t.data.size(),
                 " bytes for shape ", shape_str(t.shape));
    header[name] = {{"dtype", dtype_name(t.dtype)},
                    {"shape", t.shape},
                    {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // keep the data 8-byte aligned, as the format recommends
  std::vector<std::byte> out(8 + json.size() + offset);
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::byte>((n >> (8 * i)) & 0xff);
  std::memcpy(out.data() + 8, json.data(), json.size());
  size_t at = 8 + json.size();
  for (const auto& [name, t] : file.tensors) {
    if (!t.data.empty()) std::memcpy(out.data() + at, t.data.data(), t.data.size());
    at += t.data.size();
  }
  write_file_atomic(path, out.data(), out.size());
}

SafeTensorsFile read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  LOCDET_CHECK(in.good(), "cannot open checkpoint ", path, ": ", std::strerror(errno));
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_safetensors(bytes.data(), bytes.size(), path);
}

SafeTensorsFile parse_safetensors(const void* file_data, size_t size, const std::string& path) {
  const std::string_view bytes(static_cast<const char*>(file_data), size);
  LOCDET_CHECK(bytes.size() >= 8, "checkpoint ", path, " is truncated: ", bytes.size(),
               " bytes, not even the 8-byte header length");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  LOCDET_CHECK(n <= kMaxHeaderBytes && 8 + n <= bytes.size(), "checkpoint ", path,
               " is truncated or not a safetensors file: header length ", n, " but the file has ",
               bytes.size(), " bytes");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + n);
  } catch (const std::exception& e) {
    fail("checkpoint ", path, " has a garbled header (invalid JSON): ", e.what());
  }
  LOCDET_CHECK(header.is_object(), "checkpoint ", path, ": the header is not a JSON object");
  const size_t data_bytes = bytes.size() - 8 - n;
  const char* data = bytes.data() + 8 + n;
  SafeTensorsFile file;
  std::vector<std::pair<size_t, size_t>> ranges;
  try {
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") {
        for (auto m = it->begin(); m != it->end(); ++m) file.metadata[m.key()] = m->get<std::string>();
        continue;
      }
      SafeTensor t;
      t.dtype = parse_dtype(it->at("dtype").get<std::string>(), path, it.key());
      t.shape = integer_list(it->at("shape"), path, it.key(), "shape");
      const std::vector<int64_t> signed_off =
          integer_list(it->at("data_offsets"), path, it.key(), "data_offsets");
      const std::vector<uint64_t> off(signed_off.begin(), signed_off.end());
      int64_t numel = 1;
      for (int64_t d : t.shape) {
        // Checked: dims like 2^32 x 2^32 x 2^32 overflow int64 (found by fuzzing).
        LOCDET_CHECK(d == 0 || numel <= (int64_t{1} << 48) / d, "checkpoint ", path, ": tensor '", it.key(),
                     "' has an implausible shape ", shape_str(t.shape));
        numel *= d;
      }
      LOCDET_CHECK(off.size() == 2 && off[0] <= off[1], "checkpoint ", path, ": tensor '", it.key(),
                   "' has bad data_offsets");
      LOCDET_CHECK(off[1] <= data_bytes, "checkpoint ", path, " is truncated: tensor '", it.key(),
                   "' ends at byte ", off[1], " of the data but only ", data_bytes, " bytes are present");
      LOCDET_CHECK(off[1] - off[0] == numel * dtype_size(t.dtype), "checkpoint ", path, ": tensor '",
                   it.key(), "' has ", off[1] - off[0], " bytes for ", dtype_name(t.dtype), " ",
                   shape_str(t.shape));
      // assign, not memcpy: an empty tensor's data() may be null, and memcpy(null, ..., 0) is UB.
      t.data.assign(reinterpret_cast<const std::byte*>(data + off[0]),
                    reinterpret_cast<const std::byte*>(data + off[1]));
      ranges.push_back({off[0], off[1]});
      file.tensors[it.key()] = std::move(t);
    }
  } catch (const nlohmann::json::exception& e) {
    fail("checkpoint ", path, " has a garbled header: ", e.what());
  }
  std::sort(ranges.begin(), ranges.end());
  size_t at = 0;
  for (auto [b, e] : ranges) {
    LOCDET_CHECK(b == at, "checkpoint ", path, ": tensor data overlaps or leaves a gap at byte ", at);
    at = e;
  }
  LOCDET_CHECK(at == data_bytes, "checkpoint ", path, " has ", data_bytes - at,
               " trailing bytes after the tensors");
  return file;
}

void save_checkpoint(const std::string& path, const Executor& ex,
                     const std::map<std::string, std::string>& metadata) {
  SafeTensorsFile file;
  file.metadata = metadata;
  const Graph& g = ex.graph();
  for (Value v : g.persistent_state()) {
    const TensorInfo& info = g.info(v);
    SafeTensor t;
    t.dtype = info.dtype;
    t.shape = info.shape.to_vector();
    if (info.dtype == DType::kF32) {  // via float: a cpu_double executor still saves F32
      std::vector<float> values = ex.read(v);
      t.data.resize(values.size() * sizeof(float));
      if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
    } else {
      t.data = ex.read_bytes(v);
    }
    file.tensors[info.name] = std::move(t);
  }
  write_safetensors(path, file);
}

std::map<std::string, std::string> load_checkpoint(const std::string& path, Executor& ex, bool strict) {
  SafeTensorsFile file = read_safetensors(path);
  const Graph& g = ex.graph();
  std::vector<std::string> problems;
  std::map<std::string, Value> wanted;
  for (Value v : g.persistent_state())
    if (strict || !is_optim(g.info(v).name)) wanted[g.info(v).name] = v;
  for (const auto& [name, v] : wanted) {
    auto it = file.tensors.find(name);
    if (it == file.tensors.end()) {
      problems.push_back("missing '" + name + "'");
      continue;
    }
    const TensorInfo& info = g.info(v);
    if (it->second.shape != info.shape.to_vector())
      problems.push_back("shape of '" + name + "': checkpoint " + shape_str(it->second.shape) + " vs model " +
                         info.shape.str());
    else if (it->second.dtype != info.dtype)
      problems.push_back("dtype of '" + name + "': checkpoint " + dtype_name(it->second.dtype) +
                         " vs model " + dtype_name(info.dtype));
  }
  for (const auto& [name, t] : file.tensors)
    if (!wanted.count(name) && (strict || !is_optim(name))) problems.push_back("unexpected '" + name + "'");
  if (!problems.empty()) {
    std::string msg;
    for (const std::string& p : problems) msg += "\n  " + p;
    fail("checkpoint ", path, " does not match the model (", problems.size(), " problems):", msg);
  }
  for (const auto& [name, v] : wanted) {
    // Evaluating or fine-tuning: a parameter's weight average, where the run kept one, is the
    // better weight (same shape: it is a view of the same layout).
    const auto average = strict ? file.tensors.end() : file.tensors.find(ema_name(name));
    const SafeTensor& t = average != file.tensors.end() ? average->second : file.tensors.at(name);
    if (t.dtype == DType::kF32) {
      std::vector<float> values(t.data.size() / sizeof(float));
      if (!values.empty()) std::memcpy(values.data(), t.data.data(), t.data.size());
      ex.write(v, values);
    } else {
      ex.write_bytes(v, t.data);
    }
  }
  return file.metadata;
}

}  // namespace locdet
