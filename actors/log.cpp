#include "actors/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace tmf::log {

namespace {

std::atomic<int> threshold{static_cast<int>(level::info)};
std::atomic<bool> json_lines{false};
std::mutex out_mtx;

/// `2026-11-27T00:48:01.123456Z`. The date and time up to the second are
/// formatted once per second and thread; only the microseconds per call.
std::string timestamp() {
  using namespace std::chrono;
  thread_local std::time_t last_secs = -1;
  thread_local char prefix[64];
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto micros = duration_cast<microseconds>(now.time_since_epoch()).count()
                % 1000000;
  if (secs != last_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::snprintf(prefix, sizeof(prefix), "%04d-%02d-%02dT%02d:%02d:%02d.",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                  tm.tm_min, tm.tm_sec);
    last_secs = secs;
  }
  std::string out;
  out.reserve(28);
  out += prefix;
  char digits[8] = "000000Z";
  for (int i = 5; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + micros % 10);
    micros /= 10;
  }
  out += digits;
  return out;
}

const char* json_level(level lvl) noexcept {
  switch (lvl) {
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warning:
      return "warning";
    case level::error:
      return "error";
    default:
      return "off";
  }
}

/// Writes `line` and a newline to standard error in one call.
void emit(std::string& line) {
  line += '\n';
  std::lock_guard<std::mutex> guard{out_mtx};
  std::fwrite(line.data(), 1, line.size(), stderr);
}

void emit_json(level lvl, std::string_view msg, std::string_view fields) {
  std::string line;
  line.reserve(96 + msg.size() + fields.size());
  line += R"({"time":")";
  line += timestamp();
  line += R"(","level":")";
  line += json_level(lvl);
  line += R"(","msg":)";
  append_json_string(line, msg);
  if (!fields.empty()) {
    line += ',';
    line += fields;
  }
  line += '}';
  emit(line);
}

} // namespace

void set_json(bool on) noexcept {
  json_lines.store(on, std::memory_order_relaxed);
}

bool json() noexcept {
  return json_lines.load(std::memory_order_relaxed);
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (auto c : text) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += "\\u00";
          out += hex[u >> 4];
          out += hex[u & 0xf];
        } else {
          out += c; // UTF-8 passes through; invalid bytes are not fixed
        }
    }
  }
  out += '"';
}

void write_event(level lvl, std::string_view msg, std::string_view fields,
                 std::string_view text) {
  if (!enabled(lvl))
    return;
  if (json()) {
    emit_json(lvl, msg, fields);
    return;
  }
  write(lvl, text);
}

bool parse_level(std::string_view text, level& out) noexcept {
  if (text == "debug")
    out = level::debug;
  else if (text == "info")
    out = level::info;
  else if (text == "warning")
    out = level::warning;
  else if (text == "error")
    out = level::error;
  else if (text == "off")
    out = level::off;
  else
    return false;
  return true;
}

const char* to_string(level lvl) noexcept {
  switch (lvl) {
    case level::debug:
      return "DEBUG";
    case level::info:
      return "INFO";
    case level::warning:
      return "WARN";
    case level::error:
      return "ERROR";
    default:
      return "OFF";
  }
}

void set_threshold(level lvl) noexcept {
  threshold.store(static_cast<int>(lvl), std::memory_order_relaxed);
}

bool enabled(level lvl) noexcept {
  return lvl != level::off
         && static_cast<int>(lvl)
              >= threshold.load(std::memory_order_relaxed);
}

void write(level lvl, std::string_view text) {
  if (!enabled(lvl))
    return;
  if (json()) {
    emit_json(lvl, text, {});
    return;
  }
  std::string line;
  line.reserve(40 + text.size());
  line += timestamp();
  line += ' ';
  std::string name = to_string(lvl);
  name.resize(5, ' ');
  line += name;
  line += ' ';
  line += text;
  emit(line);
}

} // namespace tmf::log
