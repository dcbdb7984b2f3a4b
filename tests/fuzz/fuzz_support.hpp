#pragma once

// Shared by the libFuzzer targets in tests/fuzz: the invariant check (an
// abort, which libFuzzer reports with the input that caused it) and the
// input formats.
//
// Targets that take two parts read them from one input: the first line
// (up to the first '\n'), then everything after it. A query string never
// holds a raw newline, and a JSON document never needs one, so every
// combination of the two parts can be written.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

/// Aborts, naming the condition, when an invariant does not hold.
#define TMF_FUZZ_CHECK(condition)                                              \
  do {                                                                         \
    if (!(condition)) {                                                        \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__,        \
                   __LINE__, #condition);                                      \
      std::abort();                                                            \
    }                                                                          \
  } while (false)

namespace tmf::fuzz {

/// The fuzzer's input as text.
inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// The first line of `input` and everything after its newline (the whole
/// input and nothing when there is no newline).
inline std::pair<std::string_view, std::string_view>
split_line(std::string_view input) {
  auto newline = input.find('\n');
  if (newline == std::string_view::npos)
    return {input, {}};
  return {input.substr(0, newline), input.substr(newline + 1)};
}

/// The nesting depth of arrays and objects in `value`: 0 for a scalar, 1
/// for `{}` or `[1]`. Recursive: call it on parsed (bounded) values only.
inline size_t depth(const nlohmann::json& value) {
  if (!value.is_structured())
    return 0;
  size_t deepest = 0;
  for (const auto& element : value) {
    auto d = depth(element);
    if (d > deepest)
      deepest = d;
  }
  return deepest + 1;
}

} // namespace tmf::fuzz
