// The secondary-index layout: which attributes are indexed and the keys.

#include "domain/customer_index.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using json = nlohmann::json;
using namespace tmf::domain;

TEST_CASE("index_terms name the indexed string attributes only") {
  auto terms = index_terms(json{{"name", "Moon"}, {"status", "Approved"}});
  CHECK(terms == std::vector<std::string>{std::string{"name\0Moon", 9}});
  CHECK(index_terms(json{{"name", 7}}).empty());
  CHECK(index_terms(json::array()).empty());
}

TEST_CASE("index keys are term, NUL, id and start with their prefix") {
  auto term = index_terms(json{{"name", "Moon"}})[0];
  auto key = index_key(term, "00a-x");
  auto prefix = index_prefix("name", "Moon");
  CHECK(key.compare(0, prefix.size(), prefix) == 0);
  CHECK(index_key_id(key, prefix) == "00a-x");
  CHECK(index_key_id(key, index_prefix("name", "Moo")).empty());
  CHECK(index_keys({term}, "00a-x") == std::vector<std::string>{key});
}

TEST_CASE("long values are cut in the index, so the index does not decide") {
  std::string long_name(max_index_value + 10, 'n');
  auto term = index_terms(json{{"name", long_name}})[0];
  CHECK(term.size() == 5 + max_index_value);
  CHECK(index_answers(filter_term{"name", filter_op::eq, {"short"}}));
  CHECK_FALSE(index_answers(filter_term{"name", filter_op::eq, {long_name}}));
  CHECK_FALSE(index_answers(filter_term{"name", filter_op::ne, {"x"}}));
  CHECK_FALSE(index_answers(filter_term{"status", filter_op::eq, {"x"}}));
}
