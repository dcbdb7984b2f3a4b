// The stored-text layout: id first, no href; href spliced per response.

#include "domain/stored_text.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using json = nlohmann::json;
using namespace tmf::domain;

TEST_CASE("with_id puts the id first in a posted body") {
  CHECK(with_id("00a-x", R"({"name":"N"})") == R"({"id":"00a-x","name":"N"})");
  CHECK(with_id("00a-x", "{}") == R"({"id":"00a-x"})");
  CHECK(with_id("00a-x", "{ }") == R"({"id":"00a-x" })");
  CHECK(json::parse(with_id("00a-x", "{ }")) == json{{"id", "00a-x"}});
}

TEST_CASE("id_first_text puts the id first and keeps every member") {
  auto doc = json::parse(R"({"a":1,"id":"00a-x","z":{"k":"v"}})");
  auto text = id_first_text(doc);
  CHECK(text.rfind(R"({"id":"00a-x",)", 0) == 0);
  CHECK(json::parse(text) == doc);
  CHECK(id_first_text(json::parse(R"({"id":"00a-x"})")) == R"({"id":"00a-x"})");
}

TEST_CASE("stored_id reads the id at the front of a stored text") {
  CHECK(stored_id(R"({"id":"00a-x","name":"N"})") == "00a-x");
  CHECK(stored_id(R"({"name":"N","id":"00a-x"})").empty());
  CHECK(stored_id(R"({"id":"unterminated)").empty());
  CHECK(stored_id("").empty());
}

TEST_CASE("with_href splices the href in front of a stored text") {
  auto text = with_href("http://h/c/", R"({"id":"00a-x","name":"N"})");
  CHECK(text == R"({"href":"http://h/c/00a-x","id":"00a-x","name":"N"})");
  auto doc = json::parse(text);
  CHECK(doc["href"] == "http://h/c/00a-x");
  CHECK(doc["name"] == "N");
}
