#include "domain/customer_fields.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using json = nlohmann::json;
using tmf::domain::select_fields;

namespace {

json customer() {
  return json::parse(R"({
    "id": "00a-1",
    "href": "http://h/tmf-api/customerManagement/v4/customer/00a-1",
    "name": "Moon Football Club",
    "status": "Approved",
    "engagedParty": {"id": "org-42", "name": "Moon Ltd",
                     "@referredType": "Organization"},
    "contactMedium": [
      {"mediumType": "email",
       "characteristic": {"emailAddress": "a@b.c", "contactType": "x"}},
      {"mediumType": "phone",
       "characteristic": {"phoneNumber": "+1 555"}}
    ],
    "tags": ["a", "b"]
  })");
}

} // namespace

TEST_CASE("select_fields keeps id and href always") {
  auto doc = customer();
  CHECK(select_fields(doc, {"name"})
        == json({{"id", doc["id"]}, {"href", doc["href"]},
                 {"name", doc["name"]}}));
  CHECK(select_fields(doc, {"id"})
        == json({{"id", doc["id"]}, {"href", doc["href"]}}));
  CHECK(select_fields(doc, {"href"})
        == json({{"id", doc["id"]}, {"href", doc["href"]}}));
}

TEST_CASE("select_fields with no names keeps only id and href") {
  auto doc = customer();
  CHECK(select_fields(doc, {})
        == json({{"id", doc["id"]}, {"href", doc["href"]}}));
}

TEST_CASE("select_fields keeps whole sub-documents by name") {
  auto doc = customer();
  auto out = select_fields(doc, {"engagedParty", "contactMedium", "status"});
  CHECK(out["engagedParty"] == doc["engagedParty"]);
  CHECK(out["contactMedium"] == doc["contactMedium"]);
  CHECK(out["status"] == "Approved");
  CHECK_FALSE(out.contains("name"));
  CHECK(out.size() == 5);
}

TEST_CASE("select_fields ignores unknown names") {
  auto doc = customer();
  CHECK(select_fields(doc, {"nope", "engagedParty.nope", ""})
        == json::parse(R"({"id": "00a-1", "href": )" + doc["href"].dump()
                       + R"(, "engagedParty": {}})"));
}

TEST_CASE("select_fields keeps a dotted path inside its parent") {
  auto doc = customer();
  auto out = select_fields(doc, {"engagedParty.id", "engagedParty.name"});
  CHECK(out["engagedParty"]
        == json({{"id", "org-42"}, {"name", "Moon Ltd"}}));
}

TEST_CASE("select_fields applies a dotted path to every array element") {
  auto doc = customer();
  auto out = select_fields(doc, {"contactMedium.mediumType"});
  CHECK(out["contactMedium"]
        == json::parse(R"([{"mediumType": "email"}, {"mediumType": "phone"}])"));
  out = select_fields(doc, {"contactMedium.characteristic.emailAddress"});
  CHECK(out["contactMedium"]
        == json::parse(R"([{"characteristic": {"emailAddress": "a@b.c"}},
                           {"characteristic": {}}])"));
}

TEST_CASE("a whole attribute wins over a nested selection of it") {
  auto doc = customer();
  auto out = select_fields(doc, {"engagedParty.id", "engagedParty"});
  CHECK(out["engagedParty"] == doc["engagedParty"]);
}

TEST_CASE("a nested name asked of a scalar drops the attribute") {
  auto doc = customer();
  auto out = select_fields(doc, {"name.first"});
  CHECK_FALSE(out.contains("name"));
}

TEST_CASE("select_fields leaves the input unchanged") {
  auto doc = customer();
  auto before = doc;
  select_fields(doc, {"name"});
  CHECK(doc == before);
}

TEST_CASE("select_fields_text reduces a stored text, id first") {
  auto text = std::string{R"({"id":"00a-x","name":"N","status":"s",)"
                          R"("engagedParty":{"id":"p","name":"P"}})"};
  CHECK(tmf::domain::select_fields_text(text, {"status", "engagedParty.id"})
        == R"({"id":"00a-x","engagedParty":{"id":"p"},"status":"s"})");
  CHECK(tmf::domain::select_fields_text("not json", {"x"}) == "not json");
}
