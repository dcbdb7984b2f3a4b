#include "domain/hub.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include <arpa/inet.h>

#include <nlohmann/json.hpp>

#include "domain/customer_fields.hpp"
#include "domain/json_body.hpp"
#include "domain/stored_text.hpp"

namespace tmf::domain {

namespace {

using json = nlohmann::json;

std::string lower(std::string_view text) {
  std::string out{text};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

/// An IP address as 16 bytes (IPv4 mapped into IPv6), or false.
bool parse_address(std::string_view text, unsigned char out[16],
                   bool& is_v4) {
  std::string s{text};
  in_addr v4;
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    std::memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    std::memcpy(out + 12, &v4, 4);
    is_v4 = true;
    return true;
  }
  is_v4 = false;
  return inet_pton(AF_INET6, s.c_str(), out) == 1;
}

bool prefix_matches(const unsigned char* a, const unsigned char* b,
                    unsigned bits) {
  auto bytes = bits / 8;
  if (std::memcmp(a, b, bytes) != 0)
    return false;
  auto rest = bits % 8;
  if (rest == 0)
    return true;
  auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[bytes] & mask) == (b[bytes] & mask);
}

bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253)
    return false;
  return std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == '_';
  });
}

} // namespace

// -- callback policy --------------------------------------------------------

bool callback_policy::parse_rule(std::string_view text, rule& out) {
  auto slash = text.find('/');
  auto addr = text.substr(0, slash);
  bool is_v4 = false;
  if (parse_address(addr, out.addr, is_v4)) {
    unsigned max = is_v4 ? 32 : 128;
    unsigned bits = max;
    if (slash != std::string_view::npos) {
      auto digits = text.substr(slash + 1);
      if (digits.empty() || digits.size() > 3
          || !std::all_of(digits.begin(), digits.end(),
                          [](unsigned char c) { return std::isdigit(c); }))
        return false;
      bits = static_cast<unsigned>(std::stoul(std::string{digits}));
      if (bits > max)
        return false;
    }
    out.prefix = bits + (is_v4 ? 96 : 0);
    return true;
  }
  if (slash != std::string_view::npos)
    return false;
  auto name = text.front() == '.' ? text.substr(1) : text;
  if (!valid_host_name(name))
    return false;
  out.name = lower(text);
  return true;
}

bool callback_policy::parse(std::string_view allow, std::string_view deny,
                            std::string& error) {
  auto fill = [&](std::string_view list, std::vector<rule>& rules) {
    rules.clear();
    while (!list.empty()) {
      auto comma = list.find(',');
      auto item = trim(list.substr(0, comma));
      list = comma == std::string_view::npos ? std::string_view{}
                                             : list.substr(comma + 1);
      if (item.empty())
        continue;
      rule r{};
      if (!parse_rule(item, r)) {
        error = "'" + std::string{item}
                + "' is neither a host name nor an IP address or CIDR range";
        return false;
      }
      rules.push_back(std::move(r));
    }
    return true;
  };
  return fill(allow, allow_) && fill(deny, deny_);
}

bool callback_policy::matches(const std::vector<rule>& rules,
                              std::string_view host,
                              const unsigned char* addr16) {
  for (const auto& r : rules) {
    if (r.name.empty()) {
      if (addr16 != nullptr && prefix_matches(addr16, r.addr, r.prefix))
        return true;
    } else if (!host.empty()) {
      auto h = lower(host);
      if (h == r.name
          || (r.name.front() == '.'
              && (h == r.name.substr(1)
                  || (h.size() > r.name.size()
                      && h.compare(h.size() - r.name.size(), r.name.size(),
                                   r.name)
                           == 0))))
        return true;
    }
  }
  return false;
}

bool callback_policy::allows_host(std::string_view host) const {
  unsigned char addr[16];
  bool is_v4 = false;
  const unsigned char* a = parse_address(host, addr, is_v4) ? addr : nullptr;
  auto name = a != nullptr ? std::string_view{} : host;
  if (matches(deny_, name, a))
    return false;
  return allow_.empty() || matches(allow_, name, a);
}

bool callback_policy::allows_address(const unsigned char* bytes,
                                     size_t size) const {
  unsigned char addr[16];
  if (size == 4) {
    std::memset(addr, 0, 10);
    addr[10] = addr[11] = 0xff;
    std::memcpy(addr + 12, bytes, 4);
  } else if (size == 16) {
    std::memcpy(addr, bytes, 16);
  } else {
    return false;
  }
  if (matches(deny_, {}, addr))
    return false;
  return allow_.empty() || matches(allow_, {}, addr);
}

// -- callback URL -----------------------------------------------------------

std::optional<std::string> check_callback(std::string_view url,
                                          const callback_policy& policy,
                                          size_t max_length,
                                          callback_url* out) {
  if (url.size() > max_length)
    return "callback: longer than " + std::to_string(max_length)
           + " characters";
  for (unsigned char c : url)
    if (c <= 0x20 || c >= 0x7f)
      return std::string{"callback: holds white space, control or non-ASCII "
                         "characters; percent-encode them"};
  auto colon = url.find("://");
  auto scheme = lower(url.substr(0, colon == std::string_view::npos ? 0
                                                                    : colon));
  if (scheme != "http" && scheme != "https")
    return std::string{"callback: must be an absolute http or https URL"};
  auto rest = url.substr(colon + 3);
  if (rest.find('#') != std::string_view::npos)
    return std::string{"callback: must not have a fragment"};
  auto authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.find('@') != std::string_view::npos)
    return std::string{"callback: must not carry user information"};
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return std::string{"callback: an IPv6 host lacks its ']'"};
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':')
      return std::string{"callback: bad port"};
    port = after.empty() ? after : after.substr(1);
  } else if (auto c = authority.rfind(':'); c != std::string_view::npos) {
    host = authority.substr(0, c);
    port = authority.substr(c + 1);
  }
  unsigned char addr[16];
  bool is_v4 = false;
  if (host.empty()
      || (!parse_address(host, addr, is_v4) && !valid_host_name(host)))
    return std::string{"callback: has no valid host"};
  uint32_t port_number = 0;
  if (!port.empty()) {
    if (port.size() > 5
        || !std::all_of(port.begin(), port.end(),
                        [](unsigned char c) { return std::isdigit(c); }))
      return std::string{"callback: bad port"};
    port_number = static_cast<uint32_t>(std::stoul(std::string{port}));
    if (port_number == 0 || port_number > 65535)
      return std::string{"callback: bad port"};
  }
  if (!policy.allows_host(host))
    return "callback: the host " + std::string{host}
           + " is not allowed (hub-callback-allow, hub-callback-deny)";
  if (out != nullptr)
    *out = callback_url{scheme, std::string{host},
                        static_cast<uint16_t>(port_number)};
  return std::nullopt;
}

// -- event queries ------------------------------------------------------------

bool parse_event_query(std::string_view query, const list_limits& limits,
                       event_query& out, std::string& error) {
  query_params params;
  if (!split_query(query, params, error)) {
    error = "query: " + error;
    return false;
  }
  for (const auto& p : params) {
    if (p.name == "sort" || p.name == "offset" || p.name == "limit"
        || p.name == "cursor") {
      error = "query: " + p.name + " does not apply to events";
      return false;
    }
  }
  list_request parsed;
  if (!parse_list_request(params, limits, parsed, error)) {
    error = "query: " + error;
    return false;
  }
  out.filters = std::move(parsed.query.filters);
  out.fields = std::move(parsed.fields);
  return true;
}

event_matcher::event_matcher(event_query query)
  : filters_(std::move(query.filters)), fields_(std::move(query.fields)) {
  const auto& terms = filters_.terms();
  textual_ = fields_.empty() && terms.size() <= 1
             && std::all_of(terms.begin(), terms.end(), [](const auto& t) {
                  return t.path == "eventType" && t.op == filter_op::eq;
                });
  if (textual_ && !terms.empty())
    event_types_ = terms.front().values;
}

bool event_matcher::render_spliced(std::string_view event_text,
                                   std::string_view href_base,
                                   std::string& out) const {
  // The envelope (domain/events.hpp) puts the customer last, after
  // members whose strings cannot hold an unescaped quote: the first
  // `"event":{"customer":` is the envelope's own.
  constexpr std::string_view marker = "\"event\":{\"customer\":";
  auto pos = event_text.find(marker);
  if (pos == std::string_view::npos || event_text.size() < pos + 2
      || event_text.substr(event_text.size() - 2) != "}}")
    return false;
  if (!event_types_.empty()) {
    constexpr std::string_view type_key = "\"eventType\":\"";
    auto type_pos = event_text.find(type_key);
    if (type_pos == std::string_view::npos || type_pos > pos)
      return false;
    auto start = type_pos + type_key.size();
    auto type = event_text.substr(start, event_text.find('"', start) - start);
    if (std::find(event_types_.begin(), event_types_.end(), type)
        == event_types_.end())
      return false;
  }
  auto body_start = pos + marker.size();
  auto customer = event_text.substr(body_start,
                                    event_text.size() - 2 - body_start);
  if (stored_id(customer).empty())
    return false;
  out.clear();
  out.reserve(event_text.size() + href_base.size() + 40);
  out.append(event_text.substr(0, body_start));
  out += with_href(href_base, customer);
  out += "}}";
  return true;
}

bool event_matcher::render(std::string_view event_text,
                           std::string_view href_base,
                           std::string& out) const {
  if (textual_)
    return render_spliced(event_text, href_base, out);
  json event;
  std::string error;
  if (!parse_json(event_text, max_stored_depth, event, error)
      || !event.is_object())
    return false;
  auto payload = event.find("event");
  if (payload == event.end() || !payload->is_object())
    return false;
  auto customer = payload->find("customer");
  if (customer == payload->end() || !customer->is_object())
    return false;
  if (auto id = customer->find("id"); id != customer->end() && id->is_string())
    (*customer)["href"] = std::string{href_base} + id->get<std::string>();
  if (!filters_.matches(event))
    return false;
  if (!fields_.empty())
    *customer = select_fields(*customer, fields_);
  out = event.dump(-1, ' ', false, json::error_handler_t::replace);
  return true;
}

} // namespace tmf::domain

namespace tmf::domain {

std::string subscription_text(std::string_view id, std::string_view callback,
                              std::string_view query) {
  return json{{"id", id}, {"callback", callback}, {"query", query}}.dump(
    -1, ' ', false, json::error_handler_t::replace);
}

bool parse_subscription_text(std::string_view text, std::string& id,
                             std::string& callback, std::string& query) {
  json doc;
  std::string error;
  if (!parse_json(text, 4, doc, error) || !doc.is_object())
    return false;
  auto str = [&](const char* name, std::string& out) {
    auto i = doc.find(name);
    if (i == doc.end() || !i->is_string())
      return false;
    out = i->get<std::string>();
    return true;
  };
  return str("id", id) && str("callback", callback) && str("query", query);
}

std::string parked_text(std::string_view event_id, std::string_view reason,
                        uint32_t attempts, std::string_view event) {
  auto head = json{{"eventId", event_id},
                   {"reason", reason},
                   {"attempts", attempts}}
                .dump(-1, ' ', false, json::error_handler_t::replace);
  // The event text is stored as it is (no re-dump of the customer).
  head.pop_back();
  head += ",\"event\":";
  head += event;
  head += '}';
  return head;
}

bool parse_parked_text(std::string_view text, std::string& event_id,
                       std::string& reason, uint32_t& attempts,
                       std::string& event) {
  json doc;
  std::string error;
  if (!parse_json(text, max_stored_depth, doc, error) || !doc.is_object())
    return false;
  auto id = doc.find("eventId");
  auto why = doc.find("reason");
  auto n = doc.find("attempts");
  auto ev = doc.find("event");
  if (id == doc.end() || !id->is_string() || why == doc.end()
      || !why->is_string() || n == doc.end() || !n->is_number_unsigned()
      || ev == doc.end())
    return false;
  event_id = id->get<std::string>();
  reason = why->get<std::string>();
  attempts = n->get<uint32_t>();
  event = ev->dump(-1, ' ', false, json::error_handler_t::replace);
  return true;
}

std::string outbox_value(std::string_view customer, std::string_view text) {
  std::string out;
  out.reserve(customer.size() + 1 + text.size());
  out += customer;
  out += '\0';
  out += text;
  return out;
}

bool split_outbox_value(std::string_view value, std::string_view& customer,
                        std::string_view& text) {
  auto nul = value.find('\0');
  if (nul == std::string_view::npos)
    return false;
  customer = value.substr(0, nul);
  text = value.substr(nul + 1);
  return true;
}

} // namespace tmf::domain
