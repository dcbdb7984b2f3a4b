#include "domain/stored_text.hpp"

#include <nlohmann/json.hpp>

namespace tmf::domain {

namespace {

constexpr std::string_view id_prefix = "{\"id\":\"";

} // namespace

std::string with_id(std::string_view id, std::string_view body) {
  std::string out;
  out.reserve(body.size() + id.size() + 8);
  out += id_prefix;
  out += id;
  out += '"';
  auto rest = body.substr(1); // after '{'
  auto first = rest.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && rest[first] != '}')
    out += ',';
  out += rest;
  return out;
}

std::string id_first_text(const nlohmann::json& doc) {
  auto id = doc.is_object() ? doc.find("id") : doc.end();
  if (!doc.is_object() || id == doc.end() || !id->is_string())
    return doc.dump();
  auto rest = doc;
  rest.erase("id");
  auto tail = rest.dump(); // "{...}"
  std::string out = "{\"id\":";
  out += id->dump();
  if (tail.size() > 2)
    out += ',';
  out.append(tail, 1, std::string::npos);
  return out;
}

std::string_view stored_id(std::string_view text) noexcept {
  if (text.substr(0, id_prefix.size()) != id_prefix)
    return {};
  auto end = text.find('"', id_prefix.size());
  if (end == std::string_view::npos)
    return {};
  return text.substr(id_prefix.size(), end - id_prefix.size());
}

std::string with_href(std::string_view href_base, std::string_view text) {
  auto id = stored_id(text);
  std::string out;
  out.reserve(text.size() + href_base.size() + id.size() + 12);
  out += "{\"href\":\"";
  out += href_base;
  out += id;
  out += "\",";
  out += text.substr(1);
  return out;
}

} // namespace tmf::domain
