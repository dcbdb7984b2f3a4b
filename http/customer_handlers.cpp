#include "http/customer_handlers.hpp"

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <restinio/all.hpp>

#include "domain/customer_id.hpp"
#include "domain/customer_index.hpp"
#include "domain/customer_rules.hpp"
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

/// Answers a customer document with `st`, its href spliced in.
auto answer_doc(const exchange_ptr& ex, std::string base, status st) {
  return [ex, base = std::move(base), st](customer_doc& doc) {
    ex->reply(st, domain::with_href(base, doc.json));
  };
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
      ex->reply(status::created, domain::with_href(base, doc.json),
                {{"Location", base + doc.id}});
    },
    create_atom_v, domain::canonical_text(ex->request()->body(), body),
    domain::index_terms(body), correlation_id(ex));
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
  auto on_doc = answer_doc(ex, ex->href_base(), status::ok);
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
  if (auto err = require_media_type(
        *ex, {"application/merge-patch+json", "application/json"},
        "PATCH /customer/{id} (RFC 7386 merge patch)"))
    return ex->fail(*err);
  // Checked here without building the document: the customer actor
  // parses the patch once, to apply it.
  std::vector<domain::member_info> members;
  if (auto err = scan_json_object(*ex, {"id", "href"}, members))
    return ex->fail(*err);
  auto base = ex->href_base();
  const auto& patch_id = members[0];
  const auto& patch_href = members[1];
  if (patch_id.present && patch_id.string != *id)
    return ex->fail(status::bad_request, "id: cannot be changed");
  if (patch_href.present && patch_href.string != base + *id)
    return ex->fail(status::bad_request, "href: cannot be changed");
  exchange::ask(ex, answer_doc(ex, base, status::ok), patch_atom_v,
                std::move(*id), ex->request()->body(), correlation_id(ex));
}

void delete_customer(const exchange_ptr& ex, std::string_view path_id) {
  auto id = customer_id(ex, path_id);
  if (!id)
    return;
  exchange::ask(
    ex, [ex](bool) { ex->reply(status::no_content, {}); }, erase_atom_v,
    std::move(*id), correlation_id(ex));
}

} // namespace tmf::http
