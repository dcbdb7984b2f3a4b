#include "domain/customer_index.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "domain/customer_query.hpp"
#include "domain/customer_rules.hpp"

using json = nlohmann::json;
using namespace tmf::domain;

namespace {

index_spec spec_of(const std::string& path, uint64_t gen = 7) {
  return index_spec{path, gen, customer_attribute(path)};
}

index_layout builtin_layout() {
  std::vector<index_spec> specs;
  for (const auto& path : builtin_index_paths())
    specs.push_back(spec_of(path));
  return index_layout{std::move(specs)};
}

std::string key_of(const json& value) {
  auto key = index_value_key(value);
  REQUIRE(key);
  return *key;
}

/// Values of every indexed type, in no particular order.
std::vector<json> mixed_values() {
  return {json(nullptr), true, false, 0, -0.0, 5, 5.5, -3, 1e300, -1e300,
          9007199254740993ull, 9007199254740992ull, 18446744073709551615ull,
          -9223372036854775807LL - 1, 0.1, "", "a", "ab", "b",
          std::string("a\0b", 3), std::string("a\x01", 2), "\xff",
          "2024-05-01T12:00:00+02:00", "2024-05-01T09:59:59.999Z",
          "2024-05-01T10:00:00.5Z", "1999-12-31T23:59:60Z", "Zebra",
          "zebra"};
}

} // namespace

TEST_CASE("the built-in indexes are name, status, engagedParty.id and "
          "validFor.startDateTime") {
  CHECK(builtin_index_paths()
        == std::vector<std::string>{"name", "status", "engagedParty.id",
                                    "validFor.startDateTime"});
  auto layout = builtin_layout();
  for (const auto& spec : layout.specs())
    CHECK(spec.sortable());
  CHECK_FALSE(spec_of("contactMedium.mediumType").sortable()); // in arrays
  CHECK_FALSE(spec_of("x-ext").sortable()); // unknown type
}

TEST_CASE("a document has one term per index and distinct value") {
  auto layout = builtin_layout();
  json doc = {{"id", "00a-x"}, {"name", "Moon"}, {"status", "Approved"},
              {"engagedParty", {{"id", "p-1"}}},
              {"validFor", {{"startDateTime", "2024-01-01T00:00:00Z"}}}};
  auto terms = layout.terms(doc);
  CHECK(terms.size() == 4);
  CHECK(std::is_sorted(terms.begin(), terms.end()));
  auto name = *layout.find("name");
  CHECK(index_layout::terms(name, doc)
        == std::vector<std::string>{name.prefix() + key_of("Moon")});
  // Without a value: one `absent` term, after every value.
  doc.erase("status");
  auto status = *layout.find("status");
  auto absent = index_layout::terms(status, doc);
  CHECK(absent == std::vector<std::string>{
                    status.prefix() + static_cast<char>(index_tag::absent)});
  for (const auto& value : mixed_values())
    CHECK(status.prefix() + key_of(value) < absent[0]);
  CHECK(layout.terms(doc).size() == 4);
  // Through arrays: every distinct value once.
  auto media = spec_of("contactMedium.mediumType");
  json many = {{"contactMedium",
                {{{"mediumType", "email"}}, {{"mediumType", "phone"}},
                 {{"mediumType", "email"}}}}};
  CHECK(index_layout::terms(media, many).size() == 2);
  // Objects and arrays at the path have no index value.
  CHECK(index_layout::terms(spec_of("engagedParty"), doc).size() == 1);
  CHECK(index_layout::terms(spec_of("engagedParty"), doc)[0].back()
        == static_cast<char>(index_tag::absent));
}

TEST_CASE("index value keys sort like the list sort order") {
  auto values = mixed_values();
  std::vector<json> docs;
  for (size_t i = 0; i < values.size(); ++i)
    docs.push_back(json{{"id", std::to_string(1000 + i)}, {"v", values[i]}});
  std::vector<sort_key> keys{{"v", false}};
  for (const auto& a : docs)
    for (const auto& b : docs) {
      INFO(a.dump(-1, ' ', false, json::error_handler_t::replace)
           << " vs "
           << b.dump(-1, ' ', false, json::error_handler_t::replace));
      auto ka = key_of(a["v"]);
      auto kb = key_of(b["v"]);
      if (ka < kb)
        CHECK_FALSE(sort_before(b, a, keys));
      if (sort_before(a, b, keys) && a["id"] == b["id"])
        FAIL("irreflexive");
      // Equal keys only for values that compare equal.
      if (ka == kb)
        CHECK(sort_before(a, b, keys) == (a["id"] < b["id"]));
    }
}

TEST_CASE("date-times are keyed as UTC instants, numbers exactly") {
  CHECK(key_of("2024-05-01T12:00:00+02:00")
        == key_of("2024-05-01T10:00:00.000Z"));
  CHECK(key_of("2024-05-01T12:00:00+02:00")
        < key_of("2024-05-01T11:00:00Z"));
  CHECK(key_of(5) == key_of(5.0));
  CHECK(key_of(5) == *index_value_key("5", index_tag::number));
  CHECK(key_of(5) == *index_value_key("+5.0", index_tag::number));
  CHECK(key_of(9007199254740993ull) != key_of(9007199254740992ull));
  CHECK(key_of(9007199254740992ull) < key_of(9007199254740993ull));
  CHECK(key_of(-1) < key_of(-0.5));
  CHECK(key_of(0) == key_of(-0.0));
  CHECK_FALSE(index_value_key("five", index_tag::number));
  CHECK_FALSE(index_value_key("yes", index_tag::boolean));
  CHECK_FALSE(index_value_key("2024-13-01T00:00:00Z", index_tag::date_time));
}

TEST_CASE("index keys hold no NUL in the value and are cut to a bound") {
  auto k = key_of(std::string("a\0b\x01", 4));
  CHECK(k.find('\0') == std::string::npos);
  std::string big(2000, '\x01');
  auto cut = key_of(big);
  CHECK(cut.size() <= max_index_value);
  CHECK(cut.size() % 2 == 1); // the tag, then whole escape pairs
  auto long_text = key_of(std::string(1000, 'x'));
  CHECK(long_text.size() == max_index_value);
}

TEST_CASE("keys split into term and id, prefixes have an end") {
  auto key = index_key(std::string("name\0" "7\0" "\x06x", 9), "00a-1");
  CHECK(index_key_id(key) == "00a-1");
  CHECK(index_key_term(key) == std::string("name\0" "7\0" "\x06x", 9));
  CHECK(index_keys({"a", "b"}, "i") == std::vector<std::string>{
                                          std::string("a\0i", 3),
                                          std::string("b\0i", 3)});
  CHECK(prefix_end("ab") == "ac");
  CHECK(prefix_end(std::string("a\xff", 2)) == "b");
  CHECK(prefix_end(std::string("\xff", 1)).empty());
  CHECK(spec_of("name", 12).prefix() == std::string("name\0" "12\0", 8));
}

TEST_CASE("terms of a stored text equal those of its document") {
  auto layout = builtin_layout();
  json doc = {{"id", "00a-x"}, {"name", "Moon"},
              {"validFor", {{"startDateTime", "2024-01-01T00:00:00+01:00"}}}};
  CHECK(layout.terms_of_text(doc.dump()) == layout.terms(doc));
  CHECK(layout.terms_of_text("{not json").empty());
}

TEST_CASE("index markers round-trip") {
  index_marker m{true, index_layout_version, 42};
  auto text = render_marker(m);
  CHECK(text == "ready " + std::to_string(index_layout_version) + " 42");
  auto back = parse_marker(text);
  REQUIRE(back);
  CHECK(back->ready);
  CHECK(back->generation == 42);
  CHECK_FALSE(parse_marker("done 3 1"));
  CHECK_FALSE(parse_marker("ready 3"));
  CHECK(index_marker_key("name") == "index:name");
}

TEST_CASE("configured index paths are checked") {
  CHECK(check_index_path("creditProfile.creditScore") == std::nullopt);
  CHECK(check_index_path("x-custom.field") == std::nullopt);
  CHECK(check_index_path("id").has_value());
  CHECK(check_index_path("").has_value());
  CHECK(check_index_path(std::string(65, 'a')).has_value());
  CHECK(check_index_path("a..b").has_value());
  CHECK(check_index_path("name.first").has_value());
  CHECK(check_index_path("a b").has_value());
}
