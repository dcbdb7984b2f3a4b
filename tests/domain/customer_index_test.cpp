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

TEST_CASE("index terms of a stored text equal those of its document") {
  for (std::string text :
       {std::string{R"({"id":"00a-x","name":"Moon","o":{"name":"inner"}})"},
        std::string{R"({"id":"00a-x","name":""})"},
        std::string{R"({"id":"00a-x","name":7})"},
        std::string{R"({"id":"00a-x","name":"a","name":"b"})"},
        std::string{R"({"id":"00a-x"})"}}) {
    INFO(text);
    CHECK(index_terms_of_text(text) == index_terms(json::parse(text)));
  }
  CHECK(index_terms_of_text("not json").empty());
}

TEST_CASE("index terms of a stored text are found at any depth") {
  // A row stored by an older build, nested past every parse limit.
  std::string deep = R"({"id":"00a-x","v":)" + std::string(100000, '[')
                     + std::string(100000, ']') + R"(,"name":"Deep"})";
  CHECK(index_terms_of_text(deep)
        == std::vector<std::string>{std::string{"name\0Deep", 9}});
}

TEST_CASE("point queries are those answered by key lookups") {
  list_query by_id;
  by_id.filters = {{"id", filter_op::eq, {"a", "b"}}, {"status", filter_op::ne, {"x"}}};
  CHECK(is_point_query(by_id));
  list_query by_name;
  by_name.filters = {{"name", filter_op::eq, {"Moon"}}};
  CHECK(is_point_query(by_name));
  by_name.sort = {{"status", false}};
  CHECK_FALSE(is_point_query(by_name));
  list_query scan;
  scan.filters = {{"status", filter_op::eq, {"Approved"}}};
  CHECK_FALSE(is_point_query(scan));
  CHECK_FALSE(is_point_query(list_query{}));
}
