#include "domain/query_plan.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "domain/customer_query.hpp"
#include "domain/customer_rules.hpp"
#include "domain/list_cursor.hpp"

using json = nlohmann::json;
using namespace tmf::domain;

namespace {

index_layout layout_of(std::vector<std::string> paths) {
  std::vector<index_spec> specs;
  uint64_t gen = 1;
  for (auto& p : paths)
    specs.push_back(index_spec{p, gen++, customer_attribute(p)});
  return index_layout{std::move(specs)};
}

const index_layout& layout() {
  static const index_layout l = layout_of(
    {"name", "status", "engagedParty.id", "validFor.startDateTime",
     "contactMedium.mediumType", "x-ext"});
  return l;
}

bool all_ready(const index_spec&) {
  return true;
}

list_query query(std::vector<filter_term> filters,
                 std::vector<sort_key> sort = {}) {
  list_query q;
  q.filters = std::move(filters);
  q.sort = std::move(sort);
  q.limit = 10;
  return q;
}

list_plan plan(const list_query& q, const index_ready& ready = all_ready) {
  // No customer holds a boolean, number or date-time where a string is
  // expected: the whole-type ranges of those are empty.
  return plan_list(q, layout(), ready, [](const key_range& r) {
    auto tag = r.from.back();
    return !r.exact && tag >= 0x02 && tag <= 0x05;
  });
}

} // namespace

TEST_CASE("regexes anchored at the start give a literal prefix") {
  bool whole = false;
  CHECK(regex_literal_prefix("^abc", whole) == "abc");
  CHECK(whole);
  CHECK(regex_literal_prefix("^abc.*", whole) == "abc");
  CHECK_FALSE(whole);
  CHECK(regex_literal_prefix("^abc?", whole) == "ab");
  CHECK(regex_literal_prefix("^ab*c", whole) == "a");
  CHECK(regex_literal_prefix("^a\\.b", whole) == "a.b");
  CHECK(whole);
  CHECK(regex_literal_prefix("^a\\db", whole) == "a");
  CHECK(regex_literal_prefix("^abc$", whole) == "abc");
  CHECK_FALSE(whole);
  CHECK(regex_literal_prefix("abc", whole).empty());
  CHECK(regex_literal_prefix("^a|b", whole).empty());
  CHECK(regex_literal_prefix("^(a)", whole).empty());
  CHECK(regex_literal_prefix("^", whole).empty());
}

TEST_CASE("plans follow the filters, the sort and index readiness") {
  auto none = [](const index_spec&) { return false; };
  CHECK(plan(query({})).kind == list_plan::all);
  CHECK(plan(query({{"id", filter_op::eq, {"x"}}})).kind == list_plan::ids);
  auto status = query({{"status", filter_op::eq, {"Approved"}}});
  auto p = plan(status);
  CHECK(p.kind == list_plan::index);
  CHECK(p.filter.decided);
  CHECK(p.filter.spec->path == "status");
  CHECK_FALSE(reads_everything(p));
  CHECK(plan(status, none).kind == list_plan::scan);
  CHECK(reads_everything(plan(status, none)));
  // Two filters: the index finds candidates, the customers decide.
  auto two = plan(query({{"status", filter_op::eq, {"Approved"}},
                         {"description", filter_op::regex, {"x"}}}));
  CHECK(two.kind == list_plan::index);
  CHECK_FALSE(two.filter.decided);
  // Prefer an equality over a range.
  auto both = plan(query({{"name", filter_op::gt, {"M"}},
                          {"status", filter_op::eq, {"A"}}}));
  CHECK(both.filter.spec->path == "status");
  CHECK(plan(query({{"status", filter_op::ne, {"A"}}})).kind
        == list_plan::scan);
  CHECK(plan(query({{"name", filter_op::regex, {"oon"}}})).kind
        == list_plan::scan);
  auto anchored = plan(query({{"name", filter_op::regex, {"^Moo"}}}));
  CHECK(anchored.kind == list_plan::index);
  CHECK(anchored.filter.decided);
  CHECK_FALSE(plan(query({{"name", filter_op::regex, {"^Moo.*n"}}}))
                .filter.decided);
  // Several values of a customer: candidates are checked.
  CHECK_FALSE(plan(query({{"contactMedium.mediumType", filter_op::eq,
                           {"email"}}}))
                .filter.decided);
}

TEST_CASE("sorts walk an index in order or keep a bounded top-k") {
  auto walk = plan(query({}, {{"name", false}}));
  CHECK(walk.order == list_plan::walk);
  CHECK(walk.sort_spec->path == "name");
  auto by_id = plan(query({}, {{"id", true}}));
  CHECK(by_id.order == list_plan::walk);
  CHECK(by_id.sort_spec == nullptr);
  CHECK(by_id.descending);
  auto other = plan(query({}, {{"description", false}}));
  CHECK(other.order == list_plan::top_k);
  CHECK(reads_everything(other));
  CHECK(plan(query({}, {{"name", false}, {"status", false}})).order
        == list_plan::top_k);
  CHECK(plan(query({}, {{"contactMedium.mediumType", false}})).order
        == list_plan::top_k);
  auto same = plan(query({{"status", filter_op::eq, {"A"}}},
                         {{"status", true}}));
  CHECK(same.order == list_plan::walk);
  auto cross = plan(query({{"status", filter_op::eq, {"A"}}},
                          {{"name", false}}));
  CHECK(cross.order == list_plan::top_k);
  CHECK(cross.can_walk);
  auto not_ready = plan(query({}, {{"name", false}}),
                        [](const index_spec& s) { return s.path != "name"; });
  CHECK(not_ready.order == list_plan::top_k);
}

TEST_CASE("exact index ranges hold exactly the matching values") {
  // For every operator and filter value, an entry lies in the ranges of
  // an exact plan exactly when the evaluator says its value matches, and
  // in the candidate ranges whenever it matches.
  std::vector<json> values{
    nullptr, true, false, 0, 5, 5.5, -3, 500, 90, 18446744073709551615ull,
    "", "5", "90", "500", "Approved", "approved", "Appro", "Moon FC",
    "2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00Z",
    "2024-05-01T09:00:00Z", "true", "null"};
  std::vector<std::string> texts{
    "5", "90", "500", "5.5", "-3", "0", "true", "false", "null", "Approved",
    "Appro", "", "2024-05-01T10:00:00Z", "2024-05-01T11:30:00+02:00", "z"};
  for (const auto& path : {"x-ext", "name"}) {
    const auto& spec = *layout().find(path);
    for (auto op : {filter_op::eq, filter_op::gt, filter_op::gte,
                    filter_op::lt, filter_op::lte}) {
      for (const auto& text : texts) {
        filter_term term{path, op, {text}};
        std::vector<key_range> ranges;
        REQUIRE(term_ranges(term, spec, ranges));
        compiled_filters f{{term}};
        for (const auto& value : values) {
          json doc = {{"id", "i"}, {path, value}};
          auto key = index_key(spec.prefix() + *index_value_key(value), "i");
          std::vector<key_range> exact;
          for (auto& r : ranges)
            if (r.exact)
              exact.push_back(r);
          INFO(path << " op " << static_cast<int>(op) << " " << text
                    << " value " << value.dump());
          bool match = f.matches(doc);
          if (match)
            CHECK(in_ranges(key, ranges));
          if (in_ranges(key, exact))
            CHECK(match);
          // Outside the inexact ranges, membership decides.
          bool in_inexact = false;
          for (auto& r : ranges)
            if (!r.exact && in_ranges(key, {r}))
              in_inexact = true;
          if (!in_inexact)
            CHECK(in_ranges(key, ranges) == match);
        }
      }
    }
  }
}

TEST_CASE("prefix ranges of anchored regexes hold the matching strings") {
  const auto& spec = *layout().find("name");
  filter_term term{"name", filter_op::regex, {"^Moo"}};
  std::vector<key_range> ranges;
  REQUIRE(term_ranges(term, spec, ranges));
  compiled_filters f{{term}};
  for (std::string name :
       {"Moo", "Moon", "Moon FC", "Mo", "moon", "Mop", "AMoon", ""}) {
    auto key = index_key(spec.prefix() + *index_value_key(json(name)), "i");
    INFO(name);
    CHECK(in_ranges(key, ranges) == f.matches(json{{"name", name}}));
  }
}

TEST_CASE("continuation tokens belong to one query shape") {
  auto q = query({{"status", filter_op::eq, {"A"}}}, {{"name", false}});
  cursor_position pos{'w', std::string("name\0" "1\0" "\x06x\0id", 12)};
  auto token = encode_cursor(q, pos);
  CHECK(token.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        == std::string::npos);
  auto back = decode_cursor(q, token);
  REQUIRE(back);
  CHECK(back->phase == 'w');
  CHECK(back->key == pos.key);
  auto other = q;
  other.filters[0].values[0] = "B";
  CHECK_FALSE(decode_cursor(other, token));
  other = q;
  other.sort[0].descending = true;
  CHECK_FALSE(decode_cursor(other, token));
  auto paged = q;
  paged.offset = 40; // paging does not change the shape
  CHECK(decode_cursor(paged, token));
  CHECK_FALSE(decode_cursor(q, "not*base64"));
  CHECK_FALSE(decode_cursor(q, token.substr(0, 3)));
}
