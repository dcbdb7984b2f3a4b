#pragma once

// Hub subscriptions (TMF630 part 2): where callbacks may point, the query a
// subscription selects events with, and an event as delivered to it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customer_query.hpp"
#include "domain/query_string.hpp"

namespace tmf::domain {

/// Where hub callbacks may point. Entries are host names (`example.org`,
/// or `.example.org` for it and its subdomains), IP addresses or CIDR
/// ranges (`169.254.0.0/16`, `fe80::/10`). A denied host or address is
/// refused; when the allow list is not empty, only what it names passes.
/// IPv4-mapped IPv6 addresses count as their IPv4 address.
class callback_policy {
public:
  /// Parses comma lists; false with `error` naming a bad entry.
  bool parse(std::string_view allow, std::string_view deny,
             std::string& error);

  /// Checks a host as written in a URL: a name, an IPv4 address or an
  /// IPv6 address without brackets.
  bool allows_host(std::string_view host) const;

  /// Checks a resolved address: 4 bytes (IPv4) or 16 bytes (IPv6).
  bool allows_address(const unsigned char* bytes, size_t size) const;

private:
  struct rule {
    std::string name;        ///< host name rule (lower case), else empty
    unsigned char addr[16];  ///< address rule: IPv6 or IPv4-mapped
    unsigned prefix = 0;     ///< bits of `addr` that must match
  };

  static bool parse_rule(std::string_view text, rule& out);
  static bool matches(const std::vector<rule>& rules, std::string_view host,
                      const unsigned char* addr16);

  std::vector<rule> allow_;
  std::vector<rule> deny_;
};

/// The parts of a callback URL the service needs.
struct callback_url {
  std::string scheme; ///< "http" or "https"
  std::string host;   ///< without brackets
  uint16_t port = 0;  ///< 0: the scheme's default
};

/// Checks that `url` is an absolute http(s) URL no longer than
/// `max_length`, without user information or fragment, whose host the
/// policy allows. Returns the problem, or nothing (and fills `out`).
std::optional<std::string> check_callback(std::string_view url,
                                          const callback_policy& policy,
                                          size_t max_length,
                                          callback_url* out = nullptr);

/// A subscription's query: TMF630 filters over the event envelope
/// (`eventType=CustomerStateChangeEvent`, `event.customer.status=Approved`)
/// and `fields=` naming the customer attributes an event carries.
struct event_query {
  std::vector<filter_term> filters;
  std::vector<std::string> fields;
};

/// Parses a subscription's query string with the caps of `limits`; paging
/// and sorting make no sense for events and are refused.
bool parse_event_query(std::string_view query, const list_limits& limits,
                       event_query& out, std::string& error);

/// A subscription's query ready to run: regular expressions compiled.
class event_matcher {
public:
  explicit event_matcher(event_query query);

  bool ok() const noexcept {
    return filters_.ok();
  }

  const std::string& error() const noexcept {
    return filters_.error();
  }

  /// The event as delivered to the subscription, or false when the
  /// subscription does not select it: `event_text` (an outbox text) with
  /// `event.customer.href` set to `href_base` + id and the customer reduced
  /// to `fields`.
  bool render(std::string_view event_text, std::string_view href_base,
              std::string& out) const;

private:
  /// Selects by `eventType` alone (or everything) and keeps the whole
  /// customer: rendered by splicing text, without parsing the event.
  bool render_spliced(std::string_view event_text, std::string_view href_base,
                      std::string& out) const;

  compiled_filters filters_;
  std::vector<std::string> fields_;
  bool textual_ = false;                 ///< render_spliced applies
  std::vector<std::string> event_types_; ///< of a textual query; empty: all
};

} // namespace tmf::domain

namespace tmf::domain {

/// The stored form of a subscription (JSON: id, callback, query).
std::string subscription_text(std::string_view id, std::string_view callback,
                              std::string_view query);

/// Reads `subscription_text`; false when `text` is not one.
bool parse_subscription_text(std::string_view text, std::string& id,
                             std::string& callback, std::string& query);

/// The stored form of a parked event.
std::string parked_text(std::string_view event_id, std::string_view reason,
                        uint32_t attempts, std::string_view event);

/// Reads `parked_text`; false when `text` is not one.
bool parse_parked_text(std::string_view text, std::string& event_id,
                       std::string& reason, uint32_t& attempts,
                       std::string& event);

/// The outbox value of an event of customer `customer`: `customer \0 text`.
std::string outbox_value(std::string_view customer, std::string_view text);

/// Splits an outbox value; false when it has no customer part.
bool split_outbox_value(std::string_view value, std::string_view& customer,
                        std::string_view& text);

} // namespace tmf::domain
