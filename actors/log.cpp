#include "actors/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace tmf::log {

namespace {

std::atomic<int> threshold{static_cast<int>(level::info)};
std::mutex out_mtx;

} // namespace

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
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto micros = duration_cast<microseconds>(now.time_since_epoch()).count()
                % 1000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<long>(micros));
  std::lock_guard<std::mutex> guard{out_mtx};
  std::fprintf(stderr, "%s %-5s %.*s\n", stamp, to_string(lvl),
               static_cast<int>(text.size()), text.data());
}

} // namespace tmf::log
