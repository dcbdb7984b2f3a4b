#include "domain/customer_index.hpp"

#include <limits>

#include <nlohmann/json.hpp>

#include "domain/json_body.hpp"

namespace tmf::domain {

namespace {

constexpr std::string_view indexed_attributes[] = {"name"};

std::string index_term(std::string_view path, std::string_view value) {
  std::string term{path};
  term += '\0';
  term += value.substr(0, max_index_value);
  return term;
}

} // namespace

bool is_indexed(std::string_view path) noexcept {
  for (auto attr : indexed_attributes)
    if (attr == path)
      return true;
  return false;
}

std::vector<std::string> index_terms(const nlohmann::json& doc) {
  std::vector<std::string> terms;
  if (!doc.is_object())
    return terms;
  for (auto attr : indexed_attributes) {
    auto i = doc.find(std::string{attr});
    if (i != doc.end() && i->is_string())
      terms.emplace_back(index_term(attr, i->get_ref<const std::string&>()));
  }
  return terms;
}

std::vector<std::string> index_terms_of_text(std::string_view text) {
  static const std::vector<std::string_view> names{
    std::begin(indexed_attributes), std::end(indexed_attributes)};
  std::vector<member_info> members;
  std::vector<std::string> terms;
  std::string error;
  if (!scan_object(text, std::numeric_limits<size_t>::max(), names, members,
                   error))
    return terms;
  for (size_t i = 0; i < names.size(); ++i)
    if (members[i].string)
      terms.emplace_back(index_term(names[i], *members[i].string));
  return terms;
}

std::string index_key(std::string_view term, std::string_view id) {
  std::string key;
  key.reserve(term.size() + 1 + id.size());
  key += term;
  key += '\0';
  key += id;
  return key;
}

std::vector<std::string> index_keys(std::vector<std::string> terms,
                                    std::string_view id) {
  for (auto& term : terms) {
    term += '\0';
    term += id;
  }
  return terms;
}

std::string index_prefix(std::string_view path, std::string_view value) {
  auto prefix = index_term(path, value);
  prefix += '\0';
  return prefix;
}

std::string_view index_key_id(std::string_view key,
                              std::string_view prefix) noexcept {
  if (key.substr(0, prefix.size()) != prefix)
    return {};
  return key.substr(prefix.size());
}

bool is_point_query(const list_query& q) noexcept {
  for (const auto& t : q.filters)
    if (t.path == "id" && t.op == filter_op::eq)
      return true;
  return q.filters.size() == 1 && q.sort.empty()
         && index_answers(q.filters.front());
}

bool index_answers(const filter_term& term) noexcept {
  if (term.op != filter_op::eq || !is_indexed(term.path))
    return false;
  for (const auto& value : term.values)
    if (value.size() >= max_index_value)
      return false;
  return true;
}

} // namespace tmf::domain
