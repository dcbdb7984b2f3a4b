// Events of customer changes and hub subscriptions: which events a write
// emits, their envelope, callbacks, queries and the rendered delivery.

#include "domain/events.hpp"
#include "domain/hub.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using json = nlohmann::json;
using namespace tmf::domain;

TEST_CASE("a patch emits attribute and state change events as it changed") {
  auto both = patch_events({"status", "name", "contactMedium"});
  REQUIRE(both.size() == 2);
  CHECK(both[0].type == event_type::attribute_value_change);
  CHECK(both[0].field_path == "contactMedium,name");
  CHECK(both[1].type == event_type::state_change);
  CHECK(patch_events({"status"}).size() == 1);
  CHECK(patch_events({"status"})[0].type == event_type::state_change);
  CHECK(patch_events({}).empty());
  CHECK(std::string{event_type_name(event_type::remove)}
        == "CustomerDeleteEvent");
}

TEST_CASE("the event envelope holds the customer and what the swagger names") {
  auto text = event_text({event_type::attribute_value_change, "name"},
                         {"e1", "2026-12-01T10:00:00.000Z", "c\"1"},
                         R"({"id":"00a-x","name":"N"})");
  auto doc = json::parse(text);
  CHECK(doc["eventId"] == "e1");
  CHECK(doc["eventTime"] == "2026-12-01T10:00:00.000Z");
  CHECK(doc["eventType"] == "CustomerAttributeValueChangeEvent");
  CHECK(doc["correlationId"] == "c\"1");
  CHECK(doc["fieldPath"] == "name");
  CHECK(doc["event"]["customer"]["name"] == "N");
  auto plain = json::parse(
    event_text({event_type::create, {}}, {"e2", "t", ""}, "{}"));
  CHECK_FALSE(plain.contains("correlationId"));
  CHECK_FALSE(plain.contains("fieldPath"));
}

TEST_CASE("rfc3339_utc formats instants in UTC with milliseconds") {
  CHECK(rfc3339_utc(0) == "1970-01-01T00:00:00.000Z");
  CHECK(rfc3339_utc(1764600095477000000) == "2025-12-01T14:41:35.477Z");
}

TEST_CASE("callbacks are absolute http(s) URLs the policy allows") {
  callback_policy policy;
  std::string error;
  REQUIRE(policy.parse("", "169.254.0.0/16, fe80::/10, .internal", error));
  callback_url parsed;
  CHECK_FALSE(check_callback("http://127.0.0.1:8081/listener", policy, 2048,
                             &parsed));
  CHECK(parsed.host == "127.0.0.1");
  CHECK(parsed.port == 8081);
  CHECK_FALSE(check_callback("https://[::1]/x?y=1", policy, 2048, &parsed));
  CHECK(parsed.host == "::1");
  for (auto bad :
       {"/relative", "ftp://h/x", "http://", "http://h:0/", "http://h:99999/",
        "http://u:p@h/", "http://h/x#frag", "http://h/a b",
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/x", "http://[::ffff:169.254.1.1]/x",
        "http://metadata.internal/", "http://a.metadata.internal/"}) {
    INFO(bad);
    CHECK(check_callback(bad, policy, 2048));
  }
  CHECK(check_callback("http://h/" + std::string(2048, 'x'), policy, 2048));
}

TEST_CASE("a non-empty allow list admits only what it names") {
  callback_policy policy;
  std::string error;
  REQUIRE(policy.parse("10.0.0.0/8,billing.example", "10.9.0.0/16", error));
  CHECK(policy.allows_host("10.1.2.3"));
  CHECK_FALSE(policy.allows_host("10.9.2.3")); // deny wins
  CHECK(policy.allows_host("billing.example"));
  CHECK_FALSE(policy.allows_host("crm.example"));
  const unsigned char v4[] = {10, 0, 0, 1};
  CHECK(policy.allows_address(v4, 4));
  const unsigned char other[] = {192, 168, 0, 1};
  CHECK_FALSE(policy.allows_address(other, 4));
  CHECK_FALSE(policy.parse("10.0.0.0/33", "", error));
  CHECK(error.find("10.0.0.0/33") != std::string::npos);
}

TEST_CASE("a subscription's query selects and trims events") {
  event_query q;
  std::string error;
  REQUIRE(parse_event_query(
    "eventType=CustomerStateChangeEvent&event.customer.status=Approved"
    "&fields=status",
    {}, q, error));
  event_matcher m{std::move(q)};
  REQUIRE(m.ok());
  auto approved = event_text({event_type::state_change, {}}, {"e", "t", ""},
                             R"({"id":"00a-x","name":"N","status":"Approved"})");
  std::string out;
  REQUIRE(m.render(approved, "http://h/c/", out));
  auto doc = json::parse(out);
  CHECK(doc["event"]["customer"]
        == json{{"id", "00a-x"}, {"href", "http://h/c/00a-x"},
                {"status", "Approved"}});
  auto other = event_text({event_type::create, {}}, {"e", "t", ""},
                          R"({"id":"00a-x","status":"Approved"})");
  CHECK_FALSE(m.render(other, "http://h/c/", out));
  CHECK_FALSE(parse_event_query("sort=name", {}, q, error));
  CHECK(error == "query: sort does not apply to events");
  CHECK_FALSE(parse_event_query("a..b=1", {}, q, error));
  event_matcher bad{event_query{{{"name", filter_op::regex, {"(x"}}}, {}}};
  CHECK_FALSE(bad.ok());
}

TEST_CASE("an empty query selects every event, with href") {
  event_matcher all{event_query{}};
  std::string out;
  REQUIRE(all.render(event_text({event_type::remove, {}}, {"e", "t", ""},
                                R"({"id":"00a-x","name":"N"})"),
                     "http://h/c/", out));
  CHECK(json::parse(out)["event"]["customer"]["href"] == "http://h/c/00a-x");
}

TEST_CASE("an eventType-only query renders by splicing, like the DOM path") {
  auto text = event_text(
    {event_type::attribute_value_change, "name"},
    {"e1", "t", R"(c "event":{"customer": 1)"},
    R"({"id":"00a-x","event":{"customer":{"id":"fake"}},"name":"N"})");
  event_matcher spliced{event_query{
    {{"eventType", filter_op::eq, {"CustomerAttributeValueChangeEvent"}}},
    {}}};
  event_matcher parsed{event_query{{{"eventId", filter_op::ne, {"zz"}}}, {}}};
  std::string fast;
  std::string slow;
  REQUIRE(spliced.render(text, "http://h/c/", fast));
  REQUIRE(parsed.render(text, "http://h/c/", slow));
  CHECK(json::parse(fast) == json::parse(slow));
  CHECK(json::parse(fast)["event"]["customer"]["href"] == "http://h/c/00a-x");
  event_matcher other{event_query{
    {{"eventType", filter_op::eq, {"CustomerDeleteEvent"}}}, {}}};
  CHECK_FALSE(other.render(text, "http://h/c/", fast));
}
