#pragma once

// RFC 3339 date-times as instants: the one place that turns a date-time
// text into something that compares and sorts by the moment it names,
// whatever its UTC offset (`2024-05-01T12:00:00+02:00` is the same instant
// as `2024-05-01T10:00:00Z`). Pure.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tmf::domain {

/// One moment: whole seconds since the Unix epoch (UTC) and the decimal
/// digits of the fraction of a second without trailing zeros (`"5"` for
/// half a second). A leap second (`:60`) counts as the second after `:59`.
struct instant {
  int64_t seconds = 0;
  std::string fraction;
};

/// The instant of an RFC 3339 date-time, or nothing when `text` is not one
/// (see `is_rfc3339_date_time` in domain/customer_rules.hpp).
std::optional<instant> parse_instant(std::string_view text);

/// <0, 0 or >0 as `x` is before, at or after `y`.
int compare_instants(const instant& x, const instant& y) noexcept;

/// A byte string whose lexicographic order is the order of the instants:
/// 8 bytes of the seconds (big endian, sign bit flipped), then the
/// fraction digits.
std::string instant_key(const instant& x);

} // namespace tmf::domain
