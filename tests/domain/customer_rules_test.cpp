#include "domain/customer_rules.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using json = nlohmann::json;
using tmf::domain::apply_merge_patch;
using tmf::domain::check_create;
using tmf::domain::check_customer;
using tmf::domain::is_rfc3339_date_time;

namespace {

/// A realistic POST body touching every Customer sub-schema, plus
/// polymorphic extension attributes.
json valid_customer() {
  return json::parse(R"({
    "name": "Moon Football Club",
    "status": "Approved",
    "statusReason": "credit check passed",
    "@type": "BusinessCustomer",
    "@baseType": "Customer",
    "@schemaLocation": "https://example.com/schemas/BusinessCustomer.json",
    "loyaltyTier": {"level": 3, "since": "not a date, not checked"},
    "validFor": {
      "startDateTime": "2024-01-01T00:00:00Z",
      "endDateTime": "2030-12-31T23:59:59.999+02:00"
    },
    "engagedParty": {
      "id": "org-42",
      "href": "https://example.com/tmf-api/party/v4/organization/org-42",
      "name": "Moon Football Club Ltd",
      "@referredType": "Organization"
    },
    "contactMedium": [
      {
        "mediumType": "email",
        "preferred": true,
        "characteristic": {
          "emailAddress": "office@moonfc.example",
          "contactType": "office"
        },
        "validFor": {"startDateTime": "2024-01-01T00:00:00Z"}
      },
      {
        "mediumType": "postalAddress",
        "preferred": false,
        "characteristic": {
          "street1": "1 Crater Road",
          "city": "Tranquility",
          "postCode": "11111",
          "country": "Moon"
        }
      }
    ],
    "characteristic": [
      {"name": "segment", "valueType": "string", "value": "gold"},
      {"name": "seats", "value": 42000},
      {"name": "tags", "value": ["sports", "football"]},
      {"name": "extra", "value": {"anything": [1, null]}}
    ],
    "relatedParty": [
      {"id": "ind-7", "role": "accountManager", "@referredType": "Individual"}
    ],
    "account": [{"id": "acc-1", "name": "Main billing account"}],
    "agreement": [{"id": "agr-1", "name": "Framework agreement"}],
    "paymentMethod": [{"id": "pm-1", "name": "Direct debit"}],
    "creditProfile": [
      {
        "creditProfileDate": "2024-03-01T12:00:00Z",
        "creditRiskRating": 2,
        "creditScore": 710,
        "validFor": {"startDateTime": "2024-03-01T12:00:00Z"}
      }
    ]
  })");
}

std::string error_of(const std::optional<std::string>& result) {
  REQUIRE(result.has_value());
  return *result;
}

} // namespace

TEST_CASE("a realistic customer passes check_create") {
  auto body = valid_customer();
  CHECK(check_create(body) == std::nullopt);
}

TEST_CASE("the minimal CTK customer passes check_create") {
  auto body = json::parse(R"({
    "name": "Moon Football Club", "status": "initialized",
    "engagedParty": {"id": "1", "name": "Moon Football Club",
                     "@referredType": "Organization"},
    "@type": "Customer", "@baseType": "PartyRole",
    "@schemaLocation": "https://example.com/Customer.schema.json"
  })");
  CHECK(check_create(body) == std::nullopt);
}

TEST_CASE("check_create requires a JSON object") {
  CHECK(error_of(check_create(json::array())) == "expected a JSON object, "
                                                 "got array");
  CHECK(error_of(check_create(json("x"))) == "expected a JSON object, "
                                             "got string");
  CHECK(check_create(json(nullptr)).has_value());
}

TEST_CASE("check_create rejects a missing name") {
  auto body = valid_customer();
  body.erase("name");
  CHECK(error_of(check_create(body)) == "name: required attribute is missing");
}

TEST_CASE("check_create rejects a missing engagedParty") {
  auto body = valid_customer();
  body.erase("engagedParty");
  CHECK(error_of(check_create(body))
        == "engagedParty: required attribute is missing");
}

TEST_CASE("engagedParty needs its id and @referredType") {
  auto body = valid_customer();
  body["engagedParty"].erase("@referredType");
  CHECK(error_of(check_create(body))
        == "engagedParty.@referredType: required attribute is missing");
  body = valid_customer();
  body["engagedParty"].erase("id");
  CHECK(error_of(check_create(body))
        == "engagedParty.id: required attribute is missing");
}

TEST_CASE("related parties in an array need @referredType") {
  auto body = valid_customer();
  body["relatedParty"].push_back({{"id", "x"}});
  CHECK(error_of(check_create(body))
        == "relatedParty[1].@referredType: required attribute is missing");
}

TEST_CASE("a contact medium needs mediumType and characteristic") {
  auto body = valid_customer();
  body["contactMedium"][1].erase("characteristic");
  CHECK(error_of(check_create(body))
        == "contactMedium[1].characteristic: required attribute is missing");
  body = valid_customer();
  body["contactMedium"][0].erase("mediumType");
  CHECK(error_of(check_create(body))
        == "contactMedium[0].mediumType: required attribute is missing");
}

TEST_CASE("a characteristic needs a name and a value of any type") {
  auto body = valid_customer();
  body["characteristic"][2].erase("value");
  CHECK(error_of(check_create(body))
        == "characteristic[2].value: required attribute is missing");
  body = valid_customer();
  body["characteristic"][0].erase("name");
  CHECK(error_of(check_create(body))
        == "characteristic[0].name: required attribute is missing");
  body = valid_customer();
  body["characteristic"][0]["value"] = nullptr; // Any accepts null too
  CHECK(check_create(body) == std::nullopt);
}

TEST_CASE("date-times are validated at every nesting level") {
  auto body = valid_customer();
  body["validFor"]["startDateTime"] = "yesterday";
  CHECK(error_of(check_create(body))
        == R"(validFor.startDateTime: expected RFC 3339 date-time, )"
           R"(got "yesterday")");
  body = valid_customer();
  body["contactMedium"][0]["validFor"]["startDateTime"] = "2024-13-01T00:00Z";
  CHECK(error_of(check_create(body))
        == R"(contactMedium[0].validFor.startDateTime: expected RFC 3339 )"
           R"(date-time, got "2024-13-01T00:00Z")");
  body = valid_customer();
  body["creditProfile"][0]["creditProfileDate"] = "2023-02-29T10:00:00Z";
  CHECK(error_of(check_create(body))
        == R"(creditProfile[0].creditProfileDate: expected RFC 3339 )"
           R"(date-time, got "2023-02-29T10:00:00Z")");
}

TEST_CASE("credit profiles need a date and a validity period") {
  auto body = valid_customer();
  body["creditProfile"][0].erase("validFor");
  CHECK(error_of(check_create(body))
        == "creditProfile[0].validFor: required attribute is missing");
}

TEST_CASE("is_rfc3339_date_time accepts RFC 3339 date-times") {
  CHECK(is_rfc3339_date_time("2024-05-01T10:00:00Z"));
  CHECK(is_rfc3339_date_time("2024-05-01T10:00:00.123+02:00"));
  CHECK(is_rfc3339_date_time("2024-05-01t10:00:00z"));
  CHECK(is_rfc3339_date_time("2024-02-29T00:00:00-05:30"));
  CHECK(is_rfc3339_date_time("2000-02-29T00:00:00Z")); // divisible by 400
  CHECK(is_rfc3339_date_time("2016-12-31T23:59:60Z")); // leap second
  CHECK(is_rfc3339_date_time("2024-04-30T23:59:59.000000001Z"));
}

TEST_CASE("is_rfc3339_date_time rejects malformed or impossible dates") {
  CHECK_FALSE(is_rfc3339_date_time(""));
  CHECK_FALSE(is_rfc3339_date_time("yesterday"));
  CHECK_FALSE(is_rfc3339_date_time("2024-05-01"));
  CHECK_FALSE(is_rfc3339_date_time("2024-05-01T10:00:00"));      // no zone
  CHECK_FALSE(is_rfc3339_date_time("2024-05-01 10:00:00Z"));     // space
  CHECK_FALSE(is_rfc3339_date_time("2023-02-29T10:00:00Z"));     // no leap
  CHECK_FALSE(is_rfc3339_date_time("1900-02-29T10:00:00Z"));     // century
  CHECK_FALSE(is_rfc3339_date_time("2024-04-31T10:00:00Z"));
  CHECK_FALSE(is_rfc3339_date_time("2024-00-10T10:00:00Z"));
  CHECK_FALSE(is_rfc3339_date_time("2024-01-00T10:00:00Z"));
  CHECK_FALSE(is_rfc3339_date_time("2024-01-01T24:00:00Z"));
  CHECK_FALSE(is_rfc3339_date_time("2024-01-01T10:60:00Z"));
  CHECK_FALSE(is_rfc3339_date_time("2024-01-01T10:00:61Z"));
  CHECK_FALSE(is_rfc3339_date_time("2024-01-01T10:00:00.Z"));
  CHECK_FALSE(is_rfc3339_date_time("2024-01-01T10:00:00+0200"));
  CHECK_FALSE(is_rfc3339_date_time("2024-01-01T10:00:00+24:00"));
  CHECK_FALSE(is_rfc3339_date_time("2024-01-01T10:00:00Zjunk"));
  CHECK_FALSE(is_rfc3339_date_time("24-01-01T10:00:00Z"));
}

TEST_CASE("wrong types are rejected at nested levels") {
  auto body = valid_customer();
  body["name"] = 42;
  CHECK(error_of(check_create(body)) == "name: expected string, got number");
  body = valid_customer();
  body["contactMedium"][0]["preferred"] = "yes";
  CHECK(error_of(check_create(body))
        == "contactMedium[0].preferred: expected boolean, got string");
  body = valid_customer();
  body["contactMedium"][1]["characteristic"]["postCode"] = 11111;
  CHECK(error_of(check_create(body))
        == "contactMedium[1].characteristic.postCode: expected string, "
           "got number");
  body = valid_customer();
  body["contactMedium"][0]["characteristic"] = json::array();
  CHECK(error_of(check_create(body))
        == "contactMedium[0].characteristic: expected object, got array");
  body = valid_customer();
  body["relatedParty"] = body["relatedParty"][0];
  CHECK(error_of(check_create(body))
        == "relatedParty: expected array, got object");
  body = valid_customer();
  body["creditProfile"][0]["creditScore"] = 1.5;
  CHECK(error_of(check_create(body))
        == "creditProfile[0].creditScore: expected integer, got number with "
           "a fraction or an exponent");
  body = valid_customer();
  body["creditProfile"][0]["creditScore"] = "710";
  CHECK(error_of(check_create(body))
        == "creditProfile[0].creditScore: expected integer, got string");
  body = valid_customer();
  body["account"][0]["name"] = true;
  CHECK(error_of(check_create(body))
        == "account[0].name: expected string, got boolean");
}

TEST_CASE("an integer attribute takes no fraction and no exponent") {
  for (auto text : {"710.0", "7.1e2", "1E2", "7.10E+2", "1e0"}) {
    INFO(text);
    auto body = valid_customer();
    body["creditProfile"][0]["creditScore"] = json::parse(text);
    CHECK(error_of(check_create(body))
          == "creditProfile[0].creditScore: expected integer, got number "
             "with a fraction or an exponent");
  }
  for (auto text : {"710", "-3", "0", "-0", "18446744073709551615"}) {
    INFO(text);
    auto body = valid_customer();
    body["creditProfile"][0]["creditRiskRating"] = json::parse(text);
    CHECK(check_create(body) == std::nullopt);
  }
}

TEST_CASE("null for a known attribute is a type error") {
  auto body = valid_customer();
  body["status"] = nullptr;
  CHECK(error_of(check_create(body)) == "status: expected string, got null");
  body = valid_customer();
  body["validFor"] = nullptr;
  CHECK(error_of(check_create(body)) == "validFor: expected object, got null");
  body = valid_customer();
  body["contactMedium"][0]["characteristic"]["city"] = nullptr;
  CHECK(error_of(check_create(body))
        == "contactMedium[0].characteristic.city: expected string, got null");
}

TEST_CASE("unknown attributes are allowed and not checked") {
  auto body = valid_customer();
  body["x-extension"] = nullptr;
  body["engagedParty"]["customField"] = {1, 2, 3};
  body["contactMedium"][0]["characteristic"]["extension"] = false;
  CHECK(check_create(body) == std::nullopt);
}

TEST_CASE("@schemaLocation must be a URI") {
  auto body = valid_customer();
  body["@schemaLocation"] = "not a uri";
  CHECK(error_of(check_create(body))
        == R"(@schemaLocation: expected URI, got "not a uri")");
  body["@schemaLocation"] = "";
  CHECK(check_create(body).has_value());
}

TEST_CASE("format uri attributes must be absolute URIs") {
  for (auto bad : {"customer/schema", "/tmf-api/schema.json", "//host/x",
                   "schema.json#Customer", ":x", "1http://x", "http:"}) {
    INFO(bad);
    auto body = valid_customer();
    body["@schemaLocation"] = bad;
    CHECK(error_of(check_create(body)).rfind("@schemaLocation: expected URI",
                                             0)
          == 0);
    body = valid_customer();
    body["engagedParty"]["@schemaLocation"] = bad;
    CHECK(check_create(body).has_value());
  }
  for (auto good : {"https://example.com/schema/Customer.schema.json",
                    "http://127.0.0.1:8080/tmf-api/customer/schema",
                    "urn:tmf:customer", "file:///x.json", "tag:a.b,2024:x"}) {
    INFO(good);
    auto body = valid_customer();
    body["@schemaLocation"] = good;
    CHECK(check_create(body) == std::nullopt);
  }
}

TEST_CASE("customer_attribute types paths through the schema") {
  using tmf::domain::attribute_type;
  using tmf::domain::customer_attribute;
  CHECK(customer_attribute("name").type == attribute_type::string);
  CHECK_FALSE(customer_attribute("name").multi);
  CHECK(customer_attribute("validFor.startDateTime").type
        == attribute_type::date_time);
  CHECK(customer_attribute("creditProfile.creditScore").type
        == attribute_type::integer);
  CHECK(customer_attribute("creditProfile.creditScore").multi);
  CHECK(customer_attribute("engagedParty.id").type == attribute_type::string);
  CHECK_FALSE(customer_attribute("engagedParty.id").multi);
  CHECK(customer_attribute("contactMedium.preferred").type
        == attribute_type::boolean);
  CHECK(customer_attribute("engagedParty").type
        == attribute_type::structured);
  CHECK(customer_attribute("name.x").type == attribute_type::invalid);
  CHECK(customer_attribute("x-ext").type == attribute_type::unknown);
  CHECK(customer_attribute("x-ext").multi);
  CHECK(customer_attribute("engagedParty.custom").type
        == attribute_type::unknown);
}

TEST_CASE("long values are cut in error messages") {
  auto body = valid_customer();
  body["validFor"]["startDateTime"] = std::string(1000, 'x');
  auto msg = error_of(check_create(body));
  CHECK(msg.size() < 200);
  CHECK(msg.find("...") != std::string::npos);
}

TEST_CASE("id and href cannot be set on create") {
  auto body = valid_customer();
  body["id"] = "abc";
  CHECK(error_of(check_create(body))
        == "id: is assigned by the server and cannot be set");
  body = valid_customer();
  body["href"] = "http://x/customer/abc";
  CHECK(error_of(check_create(body))
        == "href: is assigned by the server and cannot be set");
}

TEST_CASE("check_customer requires a string id, a name and no href") {
  auto doc = valid_customer();
  doc["id"] = "00a-123";
  CHECK(check_customer(doc) == std::nullopt);
  auto without_id = doc;
  without_id.erase("id");
  CHECK(error_of(check_customer(without_id))
        == "id: required attribute is missing");
  auto numeric_id = doc;
  numeric_id["id"] = 7;
  CHECK(error_of(check_customer(numeric_id))
        == "id: expected string, got number");
  auto without_name = doc;
  without_name.erase("name");
  CHECK(error_of(check_customer(without_name))
        == "name: required attribute is missing");
  auto with_href = doc;
  with_href["href"] = "http://x/customer/00a-123";
  CHECK(error_of(check_customer(with_href)).rfind("href: ", 0) == 0);
}

TEST_CASE("check_customer applies the nested rules after a patch") {
  auto doc = valid_customer();
  doc["id"] = "00a-123";
  REQUIRE_FALSE(apply_merge_patch(
    doc, json::parse(R"({"engagedParty": {"@referredType": null}})")));
  CHECK(error_of(check_customer(doc))
        == "engagedParty.@referredType: required attribute is missing");
}

TEST_CASE("merge patch: null removes an attribute") {
  auto doc = valid_customer();
  REQUIRE_FALSE(apply_merge_patch(
    doc, json::parse(R"({"status": null, "nope": null})")));
  CHECK_FALSE(doc.contains("status"));
  CHECK_FALSE(doc.contains("nope"));
  CHECK(doc["name"] == "Moon Football Club");
}

TEST_CASE("merge patch: nested objects merge recursively") {
  auto doc = valid_customer();
  REQUIRE_FALSE(apply_merge_patch(doc, json::parse(R"({
    "engagedParty": {"name": "New name", "role": "owner", "href": null},
    "newObject": {"a": 1, "b": null}
  })")));
  CHECK(doc["engagedParty"]["name"] == "New name");
  CHECK(doc["engagedParty"]["role"] == "owner");
  CHECK(doc["engagedParty"]["id"] == "org-42");
  CHECK(doc["engagedParty"]["@referredType"] == "Organization");
  CHECK_FALSE(doc["engagedParty"].contains("href"));
  CHECK(doc["newObject"] == json::parse(R"({"a": 1})"));
}

TEST_CASE("merge patch: arrays and scalars replace") {
  auto doc = valid_customer();
  REQUIRE_FALSE(apply_merge_patch(doc, json::parse(R"({
    "characteristic": [{"name": "only", "value": null}],
    "status": "Validated"
  })")));
  REQUIRE(doc["characteristic"].size() == 1);
  CHECK(doc["characteristic"][0] == json::parse(
                                       R"({"name": "only", "value": null})"));
  CHECK(doc["status"] == "Validated");
  CHECK(doc["contactMedium"].size() == 2);
}

TEST_CASE("merge patch: a non-object patch is rejected, doc unchanged") {
  auto doc = valid_customer();
  auto before = doc;
  CHECK(apply_merge_patch(doc, json::array()).has_value());
  CHECK(apply_merge_patch(doc, json("x")).has_value());
  CHECK(apply_merge_patch(doc, json(nullptr)).has_value());
  CHECK(doc == before);
}

TEST_CASE("the schema is usable from many threads at first use") {
  // The lazy, function-local static must be initialised exactly once.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      auto body = valid_customer();
      if (check_create(body))
        ++failures;
      body.erase("name");
      if (!check_create(body))
        ++failures;
    });
  for (auto& t : threads)
    t.join();
  CHECK(failures == 0);
}
