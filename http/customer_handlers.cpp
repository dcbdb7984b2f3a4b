#include "http/customer_handlers.hpp"

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <restinio/all.hpp>

#include "domain/customer_id.hpp"
#include "domain/customer_index.hpp"
#include "domain/customer_rules.hpp"
#include "domain/etag.hpp"
#include "domain/json_body.hpp"
#include "domain/query_string.hpp"
#include "domain/stored_text.hpp"
#include "http/paging.hpp"
#include "http/validate.hpp"

namespace tmf::http {

namespace {

using json = nlohmann::json;

/// The customer id of a `/customer/{id}` path; nothing (and a 404
/// answered) when it cannot name a customer. Ids carry their shard.
std::optional<std::string> customer_id(const exchange_ptr& ex,
                                       std::string_view id) {
  if (domain::is_customer_id(id))
    return std::string{id};
  ex->fail(status::not_found, "no customer with id " + std::string{id});
  return std::nullopt;
}

/// The request's X-Correlation-ID, carried into the events of a write.
std::string correlation_id(const exchange_ptr& ex) {
  return ex->request()->header().get_field_or("X-Correlation-ID", "");
}

/// In a cluster, `X-Served-By` naming the node that owns `id` (this node
/// for a create); nothing on a single node.
headers served_by(const exchange_ptr& ex, std::string_view id) {
  const auto& cfg = ex->ctx().cfg;
  if (cfg.node_name.empty())
    return {};
  return {{"X-Served-By", id.empty() ? cfg.node_name : cfg.owner_of(id)}};
}

/// Answers a customer document with `st`, its href spliced in, its ETag
/// and (in a cluster) the node that served it.
auto answer_doc(const exchange_ptr& ex, std::string base, status st) {
  return [ex, base = std::move(base), st](customer_doc& doc) {
    auto extra = served_by(ex, doc.id);
    extra.emplace_back("ETag", domain::etag_of(doc.version));
    ex->reply(st, domain::with_href(base, doc.json), extra);
  };
}

/// The index terms of a new customer's document.
std::vector<std::string> index_terms(const exchange_ptr& ex, const json& doc) {
  const auto& layout = ex->ctx().cfg.layout;
  return layout ? layout->terms(doc) : std::vector<std::string>{};
}

/// A request header, or an empty string.
std::string header(const exchange_ptr& ex, std::string_view name) {
  return ex->request()->header().get_field_or(std::string{name}, "");
}

/// The media types PATCH takes, in the order a 415 lists them.
constexpr std::string_view patch_types
  = "application/merge-patch+json, application/json-patch+json, "
    "application/json";

/// The kind of patch a PATCH's Content-Type asks for; nothing (and a 415
/// answered, listing the accepted types) for any other type.
std::optional<uint8_t> patch_kind(const exchange_ptr& ex) {
  auto type = media_type(*ex);
  if (type == "application/merge-patch+json" || type == "application/json")
    return patch_request::merge_patch;
  if (type == "application/json-patch+json")
    return patch_request::json_patch;
  ex->fail(status::unsupported_media_type,
           "PATCH /customer/{id} takes Content-Type "
             + std::string{patch_types} + "; got "" + type + """,
           {{"Accept-Patch", std::string{patch_types}}});
  return std::nullopt;
}

/// Checks the body of a merge patch without building it: an object whose
/// `id` and `href`, if present, name customer `id` (the customer actor
/// parses the patch once, to apply it).
std::optional<http_error> check_merge_patch(const exchange_ptr& ex,
                                            const std::string& id,
                                            const std::string& base) {
  std::vector<domain::member_info> members;
  if (auto err = scan_json_object(*ex, {"id", "href"}, members))
    return err;
  if (members[0].present && members[0].string != id)
    return http_error{status::bad_request, "id: cannot be changed"};
  if (members[1].present && members[1].string != base + id)
    return http_error{status::bad_request, "href: cannot be changed"};
  return std::nullopt;
}

/// Checks the form of a JSON Patch document (the customer actor applies
/// it).
std::optional<http_error> check_json_patch(const exchange_ptr& ex) {
  json patch;
  if (auto err = read_json_body(*ex, patch))
    return err;
  if (auto msg = domain::check_json_patch(patch))
    return http_error{status::bad_request, "the patch: " + *msg};
  return std::nullopt;
}

/// `href=<url>` filters name the resource by URL; the store knows ids.
void href_filters_to_ids(list_query& q, const std::string& base) {
  for (auto& term : q.filters) {
    if (term.path != "href"
        || (term.op != filter_op::eq && term.op != filter_op::ne))
      continue;
    term.path = "id";
    for (auto& value : term.values) {
      if (value.compare(0, base.size(), base) == 0)
        value.erase(0, base.size());
      else
        value = "\x01not-an-id"; // no id can equal this: no match
    }
  }
}

/// The response body of a list page: a JSON array of the items.
std::string page_body(const std::string& base, const list_page& page) {
  std::string body;
  body += '[';
  for (size_t i = 0; i < page.items.size(); ++i) {
    if (i > 0)
      body += ',';
    body += domain::with_href(base, page.items[i]);
  }
  body += ']';
  return body;
}

} // namespace

void list_customers(const exchange_ptr& ex, std::string_view) {
  query_params params;
  if (auto err = read_query(*ex, params))
    return ex->fail(*err);
  domain::list_request lr;
  std::string error;
  if (!domain::parse_list_request(params, ex->ctx().cfg.limits, lr, error,
                                  domain::customer_attribute))
    return ex->fail(status::bad_request, error);
  auto base = ex->href_base();
  href_filters_to_ids(lr.query, base);
  lr.query.fields = std::move(lr.fields); // the readers select
  lr.query.deadline_ns
    = std::chrono::duration_cast<std::chrono::nanoseconds>(
        (std::chrono::system_clock::now() + ex->ctx().cfg.request_timeout)
          .time_since_epoch())
        .count();
  auto partial = lr.paged && ex->ctx().cfg.partial_content;
  page_position pos;
  pos.offset = lr.query.offset;
  pos.limit = lr.query.limit;
  exchange::ask(
    ex,
    [ex, base, partial, pos](list_page& page) mutable {
      pos.total = page.total;
      pos.count = page.items.size();
      pos.next_cursor = std::move(page.next_cursor);
      auto st = partial && pos.count < pos.total ? status::partial_content
                                                 : status::ok;
      auto list_url = base.substr(0, base.size() - 1); // no trailing slash
      ex->reply(st, page_body(base, page),
                {{"X-Total-Count", std::to_string(pos.total)},
                 {"X-Result-Count", std::to_string(pos.count)},
                 {"Link", link_header(list_url,
                                      ex->request()->header().query(), pos)}});
    },
    list_atom_v, std::move(lr.query));
}

void create_customer(const exchange_ptr& ex, std::string_view) {
  if (auto err = require_media_type(*ex, {"application/json"},
                                    "POST /customer"))
    return ex->fail(*err);
  json body;
  if (auto err = read_json_body(*ex, body))
    return ex->fail(*err);
  if (auto msg = domain::check_create(body))
    return ex->fail(status::bad_request, *msg);
  auto base = ex->href_base();
  exchange::ask(
    ex,
    [ex, base](customer_doc& doc) {
      auto extra = served_by(ex, {});
      extra.emplace_back("Location", base + doc.id);
      extra.emplace_back("ETag", domain::etag_of(doc.version));
      ex->reply(status::created, domain::with_href(base, doc.json), extra);
    },
    create_atom_v, domain::canonical_text(ex->request()->body(), body),
    index_terms(ex, body), correlation_id(ex));
}

void retrieve_customer(const exchange_ptr& ex, std::string_view path_id) {
  auto id = customer_id(ex, path_id);
  if (!id)
    return;
  query_params params;
  if (auto err = read_query(*ex, params))
    return ex->fail(*err);
  std::vector<std::string> fields;
  std::string error;
  if (!domain::parse_fields(params, ex->ctx().cfg.limits, fields, error))
    return ex->fail(status::bad_request, error);
  auto base = ex->href_base();
  auto none_match = header(ex, "If-None-Match");
  auto on_doc = [ex, base, none_match](customer_doc& doc) {
    auto extra = served_by(ex, doc.id);
    extra.emplace_back("ETag", domain::etag_of(doc.version));
    if (!none_match.empty() && domain::if_none_match(none_match, doc.version))
      return ex->reply(status::not_modified, {}, extra);
    ex->reply(status::ok, domain::with_href(base, doc.json), extra);
  };
  if (fields.empty())
    exchange::ask(ex, on_doc, retrieve_atom_v, std::move(*id));
  else // the customer actor projects from its parsed document
    exchange::ask(ex, on_doc, retrieve_atom_v, std::move(*id),
                  std::move(fields));
}

void patch_customer(const exchange_ptr& ex, std::string_view path_id) {
  auto id = customer_id(ex, path_id);
  if (!id)
    return;
  auto kind = patch_kind(ex);
  if (!kind)
    return;
  auto base = ex->href_base();
  auto err = *kind == patch_request::json_patch
               ? check_json_patch(ex)
               : check_merge_patch(ex, *id, base);
  if (err)
    return ex->fail(*err);
  patch_request req{*kind, ex->request()->body(), header(ex, "If-Match"),
                    correlation_id(ex)};
  exchange::ask(ex, answer_doc(ex, base, status::ok), patch_atom_v,
                std::move(*id), std::move(req));
}

void delete_customer(const exchange_ptr& ex, std::string_view path_id) {
  auto id = customer_id(ex, path_id);
  if (!id)
    return;
  auto served = served_by(ex, *id);
  exchange::ask(
    ex, [ex, served](bool) { ex->reply(status::no_content, {}, served); },
    erase_atom_v, std::move(*id), correlation_id(ex), header(ex, "If-Match"));
}

} // namespace tmf::http
