#include "domain/customer_rules.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

using json = nlohmann::json;

namespace tmf::domain {

namespace detail {

/// The swagger text, generated into the build tree by actors/CMakeLists.txt.
std::string_view tmf629_swagger_text() noexcept;

} // namespace detail

namespace {

// -- compiled schema ----------------------------------------------------------

/// The JSON types a swagger `type` can ask for; `any` when it asks nothing.
enum class kind : uint8_t { any, object, array, string, integer, number,
                            boolean };

enum class format : uint8_t { none, date_time, uri };

/// One swagger schema, with every `$ref` resolved to a pointer. Properties are
/// sorted like nlohmann's object map, so an object is checked by one merge
/// pass over both.
struct node {
  kind type = kind::any;
  format fmt = format::none;
  std::vector<std::pair<std::string, const node*>> properties;
  std::vector<std::string> required;
  const node* items = nullptr;
};

/// The compiled `definitions` of the swagger plus the two entry points.
struct schema_set {
  std::deque<node> nodes; // stable addresses
  std::map<std::string, node*, std::less<>> definitions;
  const node* create = nullptr;   // Customer_Create
  const node* customer = nullptr; // Customer + required name and id
};

constexpr std::string_view ref_prefix = "#/definitions/";

kind kind_of(const json& schema) {
  auto i = schema.find("type");
  if (i == schema.end() || !i->is_string())
    return schema.contains("properties") ? kind::object : kind::any;
  const auto& t = i->get_ref<const std::string&>();
  if (t == "object")
    return kind::object;
  if (t == "array")
    return kind::array;
  if (t == "string")
    return kind::string;
  if (t == "integer")
    return kind::integer;
  if (t == "number")
    return kind::number;
  if (t == "boolean")
    return kind::boolean;
  return kind::any;
}

format format_of(const json& schema) {
  auto i = schema.find("format");
  if (i == schema.end() || !i->is_string())
    return format::none;
  const auto& f = i->get_ref<const std::string&>();
  if (f == "date-time")
    return format::date_time;
  if (f == "uri")
    return format::uri;
  return format::none;
}

class schema_compiler {
public:
  schema_compiler(const json& definitions, schema_set& out)
    : defs_(definitions), out_(out) {
    // Create every named node first so that `$ref` cycles resolve.
    for (auto& [name, _] : defs_.items())
      out_.definitions.emplace(name, &out_.nodes.emplace_back());
    for (auto& [name, schema] : defs_.items())
      fill(*out_.definitions.find(name)->second, schema);
  }

private:
  const node* compile(const json& schema) {
    if (!schema.is_object())
      return &any();
    if (auto ref = schema.find("$ref"); ref != schema.end()) {
      if (ref->is_string()) {
        std::string_view target = ref->get_ref<const std::string&>();
        if (target.substr(0, ref_prefix.size()) == ref_prefix) {
          target.remove_prefix(ref_prefix.size());
          if (auto i = out_.definitions.find(target);
              i != out_.definitions.end())
            return i->second;
        }
      }
      return &any(); // unresolvable: accept rather than reject valid input
    }
    auto& result = out_.nodes.emplace_back();
    fill(result, schema);
    return &result;
  }

  void fill(node& n, const json& schema) {
    if (!schema.is_object())
      return;
    if (auto ref = schema.find("$ref"); ref != schema.end()) {
      n = *compile(schema); // a definition that is only a `$ref`
      return;
    }
    n.type = kind_of(schema);
    n.fmt = format_of(schema);
    if (auto props = schema.find("properties");
        props != schema.end() && props->is_object()) {
      for (auto& [name, sub] : props->items())
        n.properties.emplace_back(name, compile(sub));
      std::sort(n.properties.begin(), n.properties.end(),
                [](const auto& x, const auto& y) { return x.first < y.first; });
    }
    if (auto req = schema.find("required");
        req != schema.end() && req->is_array())
      for (auto& name : *req)
        if (name.is_string())
          n.required.push_back(name.get<std::string>());
    if (auto items = schema.find("items"); items != schema.end())
      n.items = compile(*items);
  }

  const node& any() {
    if (any_ == nullptr)
      any_ = &out_.nodes.emplace_back();
    return *any_;
  }

  const json& defs_;
  schema_set& out_;
  const node* any_ = nullptr;
};

schema_set build_schemas() {
  schema_set result;
  auto swagger = json::parse(detail::tmf629_swagger_text(), nullptr, false);
  if (!swagger.is_object() || !swagger.contains("definitions")
      || !swagger["definitions"].is_object())
    return result;
  schema_compiler compiler{swagger["definitions"], result};
  auto lookup = [&](std::string_view name) -> node* {
    auto i = result.definitions.find(name);
    return i != result.definitions.end() ? i->second : nullptr;
  };
  auto* create = lookup("Customer_Create");
  auto* customer = lookup("Customer");
  if (create == nullptr || customer == nullptr)
    return result;
  result.create = create;
  // A stored customer also needs its name (the swagger only requires it on
  // creation) and its id.
  auto& stored = result.nodes.emplace_back(*customer);
  for (auto name : {"name", "id"})
    if (std::find(stored.required.begin(), stored.required.end(), name)
        == stored.required.end())
      stored.required.emplace_back(name);
  result.customer = &stored;
  return result;
}

/// Parsed once, on first use; C++11 guarantees thread-safe initialisation.
const schema_set& schemas() {
  static const schema_set instance = build_schemas();
  return instance;
}

// -- validation ---------------------------------------------------------------

/// One step of the path to an error: an attribute name or an array index.
struct segment {
  const std::string* key; // nullptr for an index
  size_t index;
};

/// Collects the error; the path is recorded while unwinding, so a valid
/// document never pays for it.
struct failure {
  std::string problem;
  std::vector<segment> path; // innermost first
};

const char* type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "number";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    default:
      return "binary";
  }
}

const char* kind_name(kind k) {
  switch (k) {
    case kind::object:
      return "object";
    case kind::array:
      return "array";
    case kind::string:
      return "string";
    case kind::integer:
      return "integer";
    case kind::number:
      return "number";
    case kind::boolean:
      return "boolean";
    default:
      return "any";
  }
}

/// nlohmann's exception text without its `[json.exception...] ` prefix.
std::string short_what(const std::exception& ex) {
  std::string what = ex.what();
  if (auto pos = what.find("] "); !what.empty() && what.front() == '['
                                  && pos != std::string::npos)
    what.erase(0, pos + 2);
  return what;
}

/// Quotes a client-supplied string for a message, cut to a sane length.
std::string quoted(const std::string& text) {
  constexpr size_t max_len = 64;
  json shown = text;
  if (text.size() > max_len) {
    size_t cut = max_len;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
      --cut; // do not split a UTF-8 sequence
    shown = text.substr(0, cut) + "...";
  }
  return shown.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// An absolute URI (RFC 3986 `scheme ":" hier-part ...`): a scheme of a
/// letter then letters, digits, `+`, `-` or `.`, a colon, at least one
/// more character, and no white space or control characters anywhere.
bool is_uri(const std::string& text) {
  for (unsigned char c : text)
    if (c <= 0x20 || c == 0x7F)
      return false;
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()
      || !std::isalpha(static_cast<unsigned char>(text[0])))
    return false;
  for (size_t i = 1; i < colon; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.')
      return false;
  }
  return true;
}

bool type_ok(kind k, const json& value) {
  switch (k) {
    case kind::any:
      return true;
    case kind::object:
      return value.is_object();
    case kind::array:
      return value.is_array();
    case kind::string:
      return value.is_string();
    case kind::integer:
      // The parser makes a number with a fraction or an exponent a float
      // (`720.0`, `7.2e2`, `1E2`): JSON Schema's integer has neither.
      return value.is_number_integer();
    case kind::number:
      return value.is_number();
    case kind::boolean:
      return value.is_boolean();
  }
  return false;
}

bool check(const node& schema, const json& value, failure& err);

bool check_object(const node& schema, const json& value, failure& err) {
  for (const auto& name : schema.required) {
    if (value.find(name) == value.end()) {
      err.problem = "required attribute is missing";
      err.path.push_back({&name, 0});
      return false;
    }
  }
  // Merge pass: both the object's members and the properties are sorted.
  auto prop = schema.properties.begin();
  auto prop_end = schema.properties.end();
  const auto& members = value.get_ref<const json::object_t&>();
  for (auto member = members.begin();
       member != members.end() && prop != prop_end; ++member) {
    while (prop != prop_end && prop->first < member->first)
      ++prop;
    if (prop == prop_end || prop->first != member->first)
      continue; // unknown attribute: a polymorphic extension, not checked
    if (!check(*prop->second, member->second, err)) {
      err.path.push_back({&member->first, 0});
      return false;
    }
    ++prop;
  }
  return true;
}

bool check(const node& schema, const json& value, failure& err) {
  if (!type_ok(schema.type, value)) {
    err.problem = "expected ";
    err.problem += kind_name(schema.type);
    err.problem += ", got ";
    err.problem += type_name(value);
    if (schema.type == kind::integer && value.is_number_float())
      err.problem += " with a fraction or an exponent";
    return false;
  }
  switch (schema.type) {
    case kind::object:
      return check_object(schema, value, err);
    case kind::array:
      if (schema.items != nullptr) {
        size_t index = 0;
        for (const auto& item : value) {
          if (!check(*schema.items, item, err)) {
            err.path.push_back({nullptr, index});
            return false;
          }
          ++index;
        }
      }
      return true;
    case kind::string: {
      if (schema.fmt == format::none)
        return true;
      const auto& text = value.get_ref<const std::string&>();
      if (schema.fmt == format::date_time && !is_rfc3339_date_time(text)) {
        err.problem = "expected RFC 3339 date-time, got " + quoted(text);
        return false;
      }
      if (schema.fmt == format::uri && !is_uri(text)) {
        err.problem = "expected URI, got " + quoted(text);
        return false;
      }
      return true;
    }
    default:
      return true;
  }
}

std::string render(const failure& err) {
  std::string result;
  for (auto i = err.path.rbegin(); i != err.path.rend(); ++i) {
    if (i->key != nullptr) {
      if (!result.empty())
        result += '.';
      result += *i->key;
    } else {
      result += '[';
      result += std::to_string(i->index);
      result += ']';
    }
  }
  if (!result.empty())
    result += ": ";
  result += err.problem;
  return result;
}

std::optional<std::string> validate(const node* schema, const json& doc) {
  if (schema == nullptr)
    return "internal error: the TMF629 schema is unavailable";
  failure err;
  if (check(*schema, doc, err))
    return std::nullopt;
  return render(err);
}

// -- date-time ----------------------------------------------------------------

bool digits(std::string_view text, size_t pos, size_t count, int& out) {
  if (pos + count > text.size())
    return false;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    auto c = text[i];
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

int days_in_month(int year, int month) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return days[month - 1];
}

// -- attribute paths ----------------------------------------------------------

/// The node below `n` once its arrays are unwrapped; sets `multi` when
/// there was an array.
const node* unwrap(const node* n, bool& multi) {
  while (n != nullptr && n->type == kind::array) {
    multi = true;
    n = n->items;
  }
  return n;
}

const node* property(const node& n, std::string_view name) {
  for (const auto& [key, sub] : n.properties)
    if (key == name)
      return sub;
  return nullptr;
}

attribute_type type_of(const node& n) {
  switch (n.type) {
    case kind::object:
    case kind::array:
      return attribute_type::structured;
    case kind::string:
      return n.fmt == format::date_time ? attribute_type::date_time
                                        : attribute_type::string;
    case kind::integer:
      return attribute_type::integer;
    case kind::number:
      return attribute_type::number;
    case kind::boolean:
      return attribute_type::boolean;
    default:
      return n.properties.empty() ? attribute_type::unknown
                                  : attribute_type::structured;
  }
}

bool is_scalar(attribute_type t) {
  return t != attribute_type::unknown && t != attribute_type::structured
         && t != attribute_type::invalid;
}

} // namespace

attribute_info customer_attribute(std::string_view path) {
  attribute_info info;
  const node* at = schemas().customer;
  while (at != nullptr) {
    at = unwrap(at, info.multi);
    if (path.empty()) {
      info.type = type_of(*at);
      return info;
    }
    if (is_scalar(type_of(*at))) {
      info.type = attribute_type::invalid;
      return info;
    }
    auto dot = path.find('.');
    at = property(*at, path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view{}
                                         : path.substr(dot + 1);
  }
  // Not in the schema: an extension attribute, possibly holding arrays.
  info.type = attribute_type::unknown;
  info.multi = true;
  return info;
}

bool is_rfc3339_date_time(std::string_view text) noexcept {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)
  int year, month, day, hour, minute, second;
  if (!digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-'
      || !digits(text, 5, 2, month) || text[7] != '-'
      || !digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't')
      || !digits(text, 11, 2, hour) || text[13] != ':'
      || !digits(text, 14, 2, minute) || text[16] != ':'
      || !digits(text, 17, 2, second))
    return false;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)
      || hour > 23 || minute > 59 || second > 60)
    return false;
  size_t pos = 19;
  if (text[pos] == '.') {
    size_t start = ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
      ++pos;
    if (pos == start)
      return false;
  }
  if (pos >= text.size())
    return false;
  if (text[pos] == 'Z' || text[pos] == 'z')
    return pos + 1 == text.size();
  if (text[pos] != '+' && text[pos] != '-')
    return false;
  int off_hour, off_minute;
  return pos + 6 == text.size() && digits(text, pos + 1, 2, off_hour)
         && text[pos + 3] == ':' && digits(text, pos + 4, 2, off_minute)
         && off_hour <= 23 && off_minute <= 59;
}

std::optional<std::string> check_create(const json& body) {
  try {
    if (!body.is_object())
      return std::string{"expected a JSON object, got "} + type_name(body);
    for (auto name : {"id", "href"})
      if (body.contains(name))
        return std::string{name}
               + ": is assigned by the server and cannot be set";
    return validate(schemas().create, body);
  } catch (const std::exception& ex) {
    return std::string{"internal error: "} + ex.what();
  }
}

std::optional<std::string> check_customer(const json& doc) {
  try {
    if (!doc.is_object())
      return std::string{"expected a JSON object, got "} + type_name(doc);
    if (doc.contains("href"))
      return std::string{"href: is derived from the id and must not be stored"};
    return validate(schemas().customer, doc);
  } catch (const std::exception& ex) {
    return std::string{"internal error: "} + ex.what();
  }
}

namespace {

/// True when the JSON Pointer `path` is `member` or below it.
bool at_or_below(const std::string& path, std::string_view member) {
  return path.compare(0, member.size(), member) == 0
         && (path.size() == member.size() || path[member.size()] == '/');
}

/// A problem of the JSON Pointer `member` of operation `op`, or nothing.
std::optional<std::string> check_pointer(const json& op, const char* member,
                                         bool modifies) {
  auto i = op.find(member);
  if (i == op.end() || !i->is_string())
    return std::string{member} + ": a JSON Pointer string is required";
  const auto& path = i->get_ref<const std::string&>();
  try {
    json::json_pointer ptr{path};
  } catch (const std::exception&) {
    return std::string{member} + ": " + quoted(path)
           + " is not a JSON Pointer";
  }
  if (!modifies)
    return std::nullopt;
  if (path.empty())
    return std::string{member}
           + ": the whole document cannot be replaced; patch its members";
  for (auto name : {"/id", "/href"})
    if (at_or_below(path, name))
      return std::string{name + 1} + ": cannot be changed";
  return std::nullopt;
}

/// A problem of one operation of a JSON Patch, or nothing.
std::optional<std::string> check_operation(const json& op) {
  if (!op.is_object())
    return std::string{"expected an operation object"};
  auto name = op.find("op");
  if (name == op.end() || !name->is_string())
    return std::string{"op: a string is required"};
  const auto& kind = name->get_ref<const std::string&>();
  bool needs_value = kind == "add" || kind == "replace" || kind == "test";
  bool needs_from = kind == "move" || kind == "copy";
  if (!needs_value && !needs_from && kind != "remove")
    return "op: " + quoted(kind)
           + " is not one of add, remove, replace, move, copy, test";
  if (auto msg = check_pointer(op, "path", kind != "test"))
    return msg;
  if (needs_value && !op.contains("value"))
    return std::string{"value: required by "} + kind;
  if (needs_from)
    return check_pointer(op, "from", kind == "move");
  return std::nullopt;
}

} // namespace

std::optional<std::string> check_json_patch(const json& patch) {
  if (!patch.is_array())
    return std::string{"a JSON Patch must be an array of operations, got "}
           + type_name(patch);
  size_t index = 0;
  for (const auto& op : patch) {
    if (auto msg = check_operation(op))
      return "operation " + std::to_string(index) + ": " + *msg;
    ++index;
  }
  return std::nullopt;
}

std::optional<patch_failure> apply_json_patch(const json& doc,
                                              const json& patch, json& out) {
  if (auto msg = check_json_patch(patch))
    return patch_failure{false, std::move(*msg)};
  try {
    auto result = doc.patch(patch);
    out = std::move(result);
    return std::nullopt;
  } catch (const json::out_of_range& ex) {
    return patch_failure{true, std::string{"the patch does not apply: "}
                                 + short_what(ex)};
  } catch (const json::other_error& ex) { // a failed test
    return patch_failure{true, std::string{"the patch does not apply: test "}
                                 + short_what(ex)};
  } catch (const std::exception& ex) {
    return patch_failure{false, std::string{"the patch does not apply: "}
                                  + short_what(ex)};
  }
}

std::optional<std::string> apply_merge_patch(json& doc, const json& patch) {
  if (!patch.is_object())
    return std::string{"a merge patch must be a JSON object, got "}
           + type_name(patch);
  try {
    doc.merge_patch(patch);
    return std::nullopt;
  } catch (const std::exception& ex) {
    return std::string{"cannot apply the merge patch: "} + ex.what();
  }
}

} // namespace tmf::domain
