#include "domain/customer_fields.hpp"

#include <map>
#include <string_view>

#include <nlohmann/json.hpp>

#include "domain/json_body.hpp"
#include "domain/stored_text.hpp"

using json = nlohmann::json;

namespace tmf::domain {

namespace {

/// The requested attributes as a tree: `engagedParty.id` and
/// `engagedParty.name` share the `engagedParty` node; `whole` keeps the
/// entire value (a name that ends at this node).
struct selection {
  bool whole = false;
  std::map<std::string, selection, std::less<>> children;
};

void add(selection& root, std::string_view path) {
  selection* at = &root;
  bool any = false;
  while (!path.empty()) {
    auto dot = path.find('.');
    auto name = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view{}
                                         : path.substr(dot + 1);
    if (name.empty())
      continue;
    auto i = at->children.find(name);
    if (i == at->children.end())
      i = at->children.emplace(std::string{name}, selection{}).first;
    at = &i->second;
    any = true;
  }
  if (any)
    at->whole = true;
}

/// Projects `value` through `sel`; false when nothing of it is selected (a
/// nested name asked of a scalar).
bool project(const json& value, const selection& sel, json& out) {
  if (sel.whole) {
    out = value;
    return true;
  }
  if (value.is_array()) {
    out = json::array();
    for (const auto& element : value) {
      json projected;
      if (project(element, sel, projected))
        out.push_back(std::move(projected));
    }
    return true;
  }
  if (!value.is_object())
    return false;
  out = json::object();
  for (const auto& [name, child] : sel.children) {
    auto i = value.find(name);
    if (i == value.end())
      continue;
    json projected;
    if (project(*i, child, projected))
      out[name] = std::move(projected);
  }
  return true;
}

} // namespace

json select_fields(const json& doc, const std::vector<std::string>& fields) {
  if (!doc.is_object())
    return doc;
  selection sel;
  for (const auto& field : fields)
    add(sel, field);
  add(sel, "id");
  add(sel, "href");
  json result;
  project(doc, sel, result);
  return result;
}

std::string select_fields_text(std::string_view text,
                               const std::vector<std::string>& fields) {
  json doc;
  std::string error;
  if (!parse_json(text, max_stored_depth, doc, error) || !doc.is_object())
    return std::string{text};
  return id_first_text(select_fields(doc, fields));
}

} // namespace tmf::domain
