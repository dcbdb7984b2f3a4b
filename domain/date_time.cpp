#include "domain/date_time.hpp"

#include "domain/customer_rules.hpp"

namespace tmf::domain {

namespace {

int number_at(std::string_view text, size_t pos, size_t count) {
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i)
    value = value * 10 + (text[i] - '0');
  return value;
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// days_from_civil).
int64_t days_from_civil(int64_t y, int m, int d) noexcept {
  y -= m <= 2 ? 1 : 0;
  auto era = (y >= 0 ? y : y - 399) / 400;
  auto yoe = y - era * 400;
  auto doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  auto doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

} // namespace

std::optional<instant> parse_instant(std::string_view text) {
  if (!is_rfc3339_date_time(text))
    return std::nullopt;
  // The layout is fixed up to the seconds (checked above).
  auto days = days_from_civil(number_at(text, 0, 4), number_at(text, 5, 2),
                              number_at(text, 8, 2));
  instant result;
  result.seconds = days * 86400 + number_at(text, 11, 2) * 3600
                   + number_at(text, 14, 2) * 60 + number_at(text, 17, 2);
  size_t pos = 19;
  if (text[pos] == '.') {
    auto start = ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
      ++pos;
    result.fraction = std::string{text.substr(start, pos - start)};
    while (!result.fraction.empty() && result.fraction.back() == '0')
      result.fraction.pop_back();
  }
  if (text[pos] == '+' || text[pos] == '-') {
    int64_t offset = number_at(text, pos + 1, 2) * 3600
                     + number_at(text, pos + 4, 2) * 60;
    result.seconds -= text[pos] == '+' ? offset : -offset;
  }
  return result;
}

int compare_instants(const instant& x, const instant& y) noexcept {
  if (x.seconds != y.seconds)
    return x.seconds < y.seconds ? -1 : 1;
  return x.fraction.compare(y.fraction);
}

std::string instant_key(const instant& x) {
  std::string key(8, '\0');
  auto bits = static_cast<uint64_t>(x.seconds) ^ (uint64_t{1} << 63);
  for (size_t i = 0; i < 8; ++i)
    key[i] = static_cast<char>((bits >> (8 * (7 - i))) & 0xFF);
  key += x.fraction;
  return key;
}

} // namespace tmf::domain
