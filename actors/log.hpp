#pragma once

// The service's own logging (CAF's is compiled out in Debian's build): one
// line per event on standard error, thread-safe, filtered by a process-wide
// level. Text lines are `<UTC time> <LEVEL> <text>`; with the JSON format
// (`log-format=json`) every line is one JSON object for log shippers:
// `{"time":"...","level":"info","msg":"..."}` plus the fields of the
// event (request lines: method, target, status, durationUs, requestId,
// client).

#include <atomic>
#include <string>
#include <string_view>

namespace tmf::log {

enum class level : int { debug = 0, info = 1, warning = 2, error = 3, off = 4 };

/// Parses "debug", "info", "warning", "error" or "off"; false otherwise.
bool parse_level(std::string_view text, level& out) noexcept;

/// The name of `lvl`.
const char* to_string(level lvl) noexcept;

/// Sets the threshold; lines below it are dropped.
void set_threshold(level lvl) noexcept;

/// True when a line at `lvl` would be written.
bool enabled(level lvl) noexcept;

/// Selects JSON lines (true) or text lines (false, the default).
void set_json(bool on) noexcept;

/// True when lines are written as JSON objects.
bool json() noexcept;

/// Writes one line at `lvl` (no-op when below the threshold).
void write(level lvl, std::string_view text);

/// Writes one JSON line at `lvl` with `msg` and the members `fields`
/// (already JSON: `"a":1,"b":"x"`), or, in text format, `text`.
void write_event(level lvl, std::string_view msg, std::string_view fields,
                 std::string_view text);

/// Appends `text` to `out` as a JSON string (quotes included).
void append_json_string(std::string& out, std::string_view text);

inline void debug(std::string_view text) {
  write(level::debug, text);
}
inline void info(std::string_view text) {
  write(level::info, text);
}
inline void warning(std::string_view text) {
  write(level::warning, text);
}
inline void error(std::string_view text) {
  write(level::error, text);
}

} // namespace tmf::log
