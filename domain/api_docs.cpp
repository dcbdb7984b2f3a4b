#include "domain/api_docs.hpp"

#include <set>
#include <string>

#include <nlohmann/json.hpp>

using json = nlohmann::json;

namespace tmf::domain {

namespace detail {

/// The swagger text, generated into the build tree by domain/CMakeLists.txt.
std::string_view tmf629_swagger_text() noexcept;

} // namespace detail

namespace {

constexpr std::string_view ref_prefix = "#/definitions/";

const json& swagger() {
  static const json doc = json::parse(detail::tmf629_swagger_text(), nullptr,
                                      false);
  return doc;
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// Adds to `out` the names of the definitions `node` refers to, and theirs.
void collect_refs(const json& defs, const json& node,
                  std::set<std::string>& out) {
  if (node.is_object()) {
    if (auto ref = node.find("$ref");
        ref != node.end() && ref->is_string()) {
      std::string_view target = ref->get_ref<const std::string&>();
      if (target.substr(0, ref_prefix.size()) == ref_prefix) {
        auto name = std::string{target.substr(ref_prefix.size())};
        if (defs.contains(name) && out.insert(name).second)
          collect_refs(defs, defs[name], out);
      }
    }
    for (const auto& [key, value] : node.items())
      collect_refs(defs, value, out);
  } else if (node.is_array()) {
    for (const auto& value : node)
      collect_refs(defs, value, out);
  }
}

json header(const char* type, const char* description) {
  return json{{"type", type}, {"description", description}};
}

json error_response(const char* description) {
  return json{{"description", description},
              {"schema", {{"$ref", "#/definitions/Error"}}}};
}

json parameter(const char* name, const char* in, const char* description) {
  return json{{"name", name},
              {"in", in},
              {"required", false},
              {"type", "string"},
              {"description", description}};
}

/// `GET /customer`: sort, filters, cursor, 206, Link.
void describe_list(json& op) {
  op["description"]
    = "Lists customers. Any attribute path filters (`status=Approved`, "
      "`contactMedium.mediumType=email`), with `.eq .ne .gt .gte .lt .lte "
      ".regex` or `> >= < <=`; a comma list or a repeated attribute is OR, "
      "`&` is AND. Numbers compare numerically, RFC 3339 date-times as "
      "instants; `.regex` searches (RE2). 206 when the client paged and "
      "got a strict subset (configurable to 200).";
  op["parameters"].push_back(parameter(
    "sort", "query", "Comma list of attribute paths, `-` for descending"));
  op["parameters"].push_back(parameter(
    "cursor", "query",
    "Continuation token from a `next` link: the page after the previous "
    "one, found without counting the offset again"));
  auto& ok = op["responses"]["200"];
  ok["headers"]["Link"] = header(
    "string", "RFC 8288 links: self, first, prev, next, last");
  auto partial = ok;
  partial["description"] = "Partial Content: a page of the matches";
  op["responses"]["206"] = partial;
  op["responses"]["504"] = error_response("Gateway Timeout");
}

/// The single-resource operations: ETag, conditions, JSON Patch.
void describe_resource(json& path) {
  auto etag = header("string", "The version of the customer: \"<n>\"");
  auto& get = path["get"];
  get["parameters"].push_back(parameter(
    "If-None-Match", "header", "ETags; 304 when one is current"));
  get["responses"]["200"]["headers"]["ETag"] = etag;
  get["responses"]["304"] = json{{"description", "Not Modified"},
                                 {"headers", {{"ETag", etag}}}};
  auto& patch = path["patch"];
  patch["consumes"] = {"application/merge-patch+json",
                       "application/json-patch+json", "application/json"};
  patch["description"]
    = "RFC 7386 merge patch (application/merge-patch+json, "
      "application/json) or RFC 6902 JSON Patch "
      "(application/json-patch+json, all operations or none).";
  patch["parameters"].push_back(parameter(
    "If-Match", "header", "ETags; 412 unless one names the current version"));
  patch["responses"]["200"]["headers"]["ETag"] = etag;
  patch["responses"]["412"] = error_response("Precondition Failed");
  patch["responses"]["415"] = error_response("Unsupported Media Type");
  auto& del = path["delete"];
  del["parameters"].push_back(parameter(
    "If-Match", "header", "ETags; 412 unless one names the current version"));
  del["responses"]["412"] = error_response("Precondition Failed");
}

json plain_get(const char* summary, json schema) {
  return json{{"get",
               {{"summary", summary},
                {"produces", {"application/json"}},
                {"responses",
                 {{"200", {{"description", "Success"}, {"schema", schema}}},
                  {"404", error_response("Not Found")}}}}}};
}

/// The routes the TMF629 swagger does not declare.
void add_service_paths(json& paths) {
  paths["/customer/schema"] = plain_get(
    "The JSON Schema customers are validated with", {{"type", "object"}});
  paths["/api-docs"] = plain_get("This document", {{"type", "object"}});
  paths["/hub"]["get"] = plain_get(
    "Lists the hub subscriptions",
    {{"type", "array"},
     {"items", {{"$ref", "#/definitions/EventSubscription"}}}})["get"];
  paths["/hub/{id}"]["get"] = plain_get(
    "Reads a hub subscription",
    {{"$ref", "#/definitions/EventSubscription"}})["get"];
  paths["/hub/{id}/parked"] = plain_get(
    "Events a subscription could not take", {{"type", "array"}});
  auto replay = plain_get("Sends the parked events again",
                          {{"type", "object"}});
  paths["/hub/{id}/parked/replay"]["post"] = replay["get"];
  paths["/listener"] = plain_get("The events the listener endpoints received",
                                 {{"type", "array"}});
  for (auto path : {"/hub/{id}", "/hub/{id}/parked", "/hub/{id}/parked/replay"})
    for (auto& [method, op] : paths[path].items())
      if (!op.contains("parameters"))
        op["parameters"] = json::array(
          {{{"name", "id"}, {"in", "path"}, {"required", true},
            {"type", "string"}}});
}

} // namespace

std::string customer_json_schema(std::string_view schema_url) {
  const auto& defs = swagger()["definitions"];
  std::set<std::string> used;
  collect_refs(defs, defs["Customer"], used);
  json schema = defs["Customer"];
  schema["required"] = {"id", "name", "engagedParty"};
  json out = {{"$schema", "http://json-schema.org/draft-04/schema#"},
              {"id", schema_url},
              {"title", "Customer"},
              {"description",
               "A TMF629 v4.0.0 customer as tmf629d validates and returns "
               "it. A POST body has no id and no href (the server assigns "
               "them); unknown attributes are allowed (extensions)."}};
  for (auto& [key, value] : schema.items())
    out[key] = value;
  for (const auto& name : used)
    out["definitions"][name] = defs[name];
  return dump(out);
}

std::string api_document(const api_location& where) {
  json doc = swagger();
  doc["host"] = where.host;
  doc["basePath"] = where.base_path;
  doc["schemes"] = {where.scheme};
  doc["info"]["description"]
    = "TMF629 Customer Management v4.0.0 as implemented by tmf629d, with "
      "TMF630 filtering, sorting and paging, ETags, conditional requests "
      "and JSON Patch.";
  auto& paths = doc["paths"];
  describe_list(paths["/customer"]["get"]);
  auto& created = paths["/customer"]["post"]["responses"]["201"];
  created["headers"]["Location"] = header("string", "The new customer's href");
  created["headers"]["ETag"] = header("string", "\"1\"");
  describe_resource(paths["/customer/{id}"]);
  add_service_paths(paths);
  return dump(doc);
}

} // namespace tmf::domain
