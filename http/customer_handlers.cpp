// The routes of the TMF629 customer resource and their handlers. Each
// handler checks the request (path, headers, query, body) and either answers
// at once (400/404/405/413/415) or asks the router through the gateway
// (http/ask.hpp) and returns `request_accepted()`.

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <restinio/all.hpp>

#include "domain/customer_id.hpp"
#include "domain/customer_index.hpp"
#include "domain/customer_rules.hpp"
#include "domain/json_body.hpp"
#include "domain/query_string.hpp"
#include "domain/stored_text.hpp"
#include "http/ask.hpp"
#include "http/context.hpp"

namespace tmf::http {

namespace {

using json = nlohmann::json;
using restinio::request_handle_t;
using restinio::request_handling_status_t;

// -- helpers -----------------------------------------------------------------

/// The media type of the request without parameters, lower case.
std::string media_type(const request_handle_t& req) {
  auto value = req->header().get_field_or(restinio::http_field::content_type,
                                          "");
  auto end = value.find(';');
  std::string out = value.substr(0, end);
  out.erase(std::remove_if(out.begin(), out.end(),
                           [](unsigned char c) { return std::isspace(c); }),
            out.end());
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

/// Reads a JSON request body within the size limit; otherwise answers 413
/// or 400 and returns false.
bool parse_body(context& ctx, const request_handle_t& req,
                clock::time_point start, json& out) {
  if (req->body().size() > ctx.cfg.max_body_size) {
    respond_error(ctx, req, 413,
                  "the body has " + std::to_string(req->body().size())
                    + " bytes; the limit is "
                    + std::to_string(ctx.cfg.max_body_size),
                  start);
    return false;
  }
  try {
    out = json::parse(req->body());
    return true;
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    auto pos = what.find("parse error");
    respond_error(ctx, req, 400,
                  "the body is not valid JSON: "
                    + (pos == std::string::npos ? what : what.substr(pos)),
                  start);
    return false;
  }
}

/// Decoded query pairs; on a malformed query answers 400 and returns false.
bool query_pairs(context& ctx, const request_handle_t& req,
                 clock::time_point start,
                 std::vector<std::pair<std::string, std::string>>& out) {
  std::string error;
  if (domain::split_query(req->header().query(), out, error))
    return true;
  respond_error(ctx, req, 400, "query: " + error, start);
  return false;
}

// -- handlers ----------------------------------------------------------------

request_handling_status_t create(const std::shared_ptr<context>& ctx,
                                 request_handle_t req,
                                 clock::time_point start) {
  if (media_type(req) != "application/json") {
    respond_error(*ctx, req, 415,
                  "POST /customer takes Content-Type application/json", start);
    return restinio::request_accepted();
  }
  json body;
  if (!parse_body(*ctx, req, start, body))
    return restinio::request_accepted();
  if (auto msg = domain::check_create(body)) {
    respond_error(*ctx, req, 400, *msg, start);
    return restinio::request_accepted();
  }
  auto base = href_base(*ctx, req);
  ask(
    ctx, req, start,
    [ctx, req, start, base](customer_doc& doc) {
      auto href = base + doc.id;
      respond(*ctx, req, 201, domain::with_href(base, doc.json),
              {{"Location", href}}, start);
    },
    create_atom_v, domain::canonical_text(req->body(), body),
    domain::index_terms(body));
  return restinio::request_accepted();
}

request_handling_status_t retrieve(const std::shared_ptr<context>& ctx,
                                   request_handle_t req, std::string id,
                                   clock::time_point start) {
  std::vector<std::pair<std::string, std::string>> pairs;
  if (!query_pairs(*ctx, req, start, pairs))
    return restinio::request_accepted();
  auto fields = domain::parse_fields(pairs);
  auto base = href_base(*ctx, req);
  auto on_doc = [ctx, req, start, base](customer_doc& doc) {
    respond(*ctx, req, 200, domain::with_href(base, doc.json), {}, start);
  };
  if (fields.empty())
    ask(ctx, req, start, on_doc, retrieve_atom_v, std::move(id));
  else // the customer actor projects from its parsed document
    ask(ctx, req, start, on_doc, retrieve_atom_v, std::move(id),
        std::move(fields));
  return restinio::request_accepted();
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

request_handling_status_t list(const std::shared_ptr<context>& ctx,
                               request_handle_t req,
                               clock::time_point start) {
  std::vector<std::pair<std::string, std::string>> pairs;
  if (!query_pairs(*ctx, req, start, pairs))
    return restinio::request_accepted();
  domain::list_request lr;
  std::string error;
  if (!domain::parse_list_request(pairs, ctx->limits, lr, error)) {
    respond_error(*ctx, req, 400, error, start);
    return restinio::request_accepted();
  }
  auto base = href_base(*ctx, req);
  href_filters_to_ids(lr.query, base);
  lr.query.fields = std::move(lr.fields); // the readers select
  lr.query.deadline_ns
    = std::chrono::duration_cast<std::chrono::nanoseconds>(
        (std::chrono::system_clock::now() + ctx->cfg.request_timeout)
          .time_since_epoch())
        .count();
  auto paged = lr.paged;
  ask(
    ctx, req, start,
    [ctx, req, start, base, paged](list_page& page) {
      std::string body;
      body += '[';
      for (size_t i = 0; i < page.items.size(); ++i) {
        if (i > 0)
          body += ',';
        body += domain::with_href(base, page.items[i]);
      }
      body += ']';
      auto count = page.items.size();
      auto status = paged && count < page.total ? 206 : 200;
      respond(*ctx, req, status, std::move(body),
              {{"X-Total-Count", std::to_string(page.total)},
               {"X-Result-Count", std::to_string(count)}},
              start);
    },
    list_atom_v, std::move(lr.query));
  return restinio::request_accepted();
}

request_handling_status_t patch(const std::shared_ptr<context>& ctx,
                                request_handle_t req, std::string id,
                                clock::time_point start) {
  auto type = media_type(req);
  if (type != "application/merge-patch+json" && type != "application/json") {
    respond_error(*ctx, req, 415,
                  "PATCH /customer/{id} takes Content-Type "
                  "application/merge-patch+json or application/json "
                  "(RFC 7386 merge patch)",
                  start);
    return restinio::request_accepted();
  }
  json body;
  if (!parse_body(*ctx, req, start, body))
    return restinio::request_accepted();
  if (!body.is_object()) {
    respond_error(*ctx, req, 400, "a merge patch must be a JSON object",
                  start);
    return restinio::request_accepted();
  }
  auto base = href_base(*ctx, req);
  if (auto i = body.find("id"); i != body.end()) {
    if (!i->is_string() || i->get<std::string>() != id) {
      respond_error(*ctx, req, 400, "id: cannot be changed", start);
      return restinio::request_accepted();
    }
    body.erase(i);
  }
  if (auto i = body.find("href"); i != body.end()) {
    if (!i->is_string() || i->get<std::string>() != base + id) {
      respond_error(*ctx, req, 400, "href: cannot be changed", start);
      return restinio::request_accepted();
    }
    body.erase(i);
  }
  ask(
    ctx, req, start,
    [ctx, req, start, base](customer_doc& doc) {
      respond(*ctx, req, 200, domain::with_href(base, doc.json), {}, start);
    },
    patch_atom_v, std::move(id), body.dump());
  return restinio::request_accepted();
}

request_handling_status_t erase(const std::shared_ptr<context>& ctx,
                                request_handle_t req, std::string id,
                                clock::time_point start) {
  ask(
    ctx, req, start,
    [ctx, req, start](bool) { respond(*ctx, req, 204, {}, {}, start); },
    erase_atom_v, std::move(id));
  return restinio::request_accepted();
}

request_handling_status_t not_allowed(context& ctx,
                                      const request_handle_t& req,
                                      const char* allow,
                                      clock::time_point start) {
  respond_error(ctx, req, 405,
                std::string{"method "}
                  + req->header().method().c_str()
                  + " is not allowed here; allowed: " + allow,
                start, {{"Allow", allow}});
  return restinio::request_accepted();
}

request_handling_status_t not_found(context& ctx, const request_handle_t& req,
                                    const std::string& message,
                                    clock::time_point start) {
  respond_error(ctx, req, 404, message, start);
  return restinio::request_accepted();
}

} // namespace

restinio::request_handling_status_t route(const std::shared_ptr<context>& ctx,
                                          restinio::request_handle_t req) {
  auto start = clock::now();
  if (ctx->stopping.load(std::memory_order_relaxed)) {
    respond_error(*ctx, req, 503, "the service is shutting down; retry",
                  start, {{"Retry-After", "1"}});
    return restinio::request_accepted();
  }
  auto path = req->header().path();
  const auto& base = ctx->cfg.base_path;
  if (path.substr(0, base.size()) != base)
    return not_found(*ctx, req, "no resource at " + std::string{path}, start);
  auto rest = path.substr(base.size());
  auto method = req->header().method();
  constexpr std::string_view collection = "/customer";
  if (rest == collection || rest == "/customer/") {
    if (method == restinio::http_method_get())
      return list(ctx, std::move(req), start);
    if (method == restinio::http_method_post())
      return create(ctx, std::move(req), start);
    return not_allowed(*ctx, req, "GET, POST", start);
  }
  if (rest.substr(0, collection.size() + 1) == "/customer/") {
    auto id = std::string{rest.substr(collection.size() + 1)};
    if (id.find('/') != std::string::npos)
      return not_found(*ctx, req, "no resource at " + std::string{path},
                       start);
    bool get = method == restinio::http_method_get();
    bool mod = method == restinio::http_method_patch();
    bool del = method == restinio::http_method_delete();
    if (!get && !mod && !del)
      return not_allowed(*ctx, req, "GET, PATCH, DELETE", start);
    // Ids carry their shard; anything else cannot name a customer.
    if (!domain::is_customer_id(id))
      return not_found(*ctx, req, "no customer with id " + id, start);
    if (get)
      return retrieve(ctx, std::move(req), std::move(id), start);
    if (mod)
      return patch(ctx, std::move(req), std::move(id), start);
    return erase(ctx, std::move(req), std::move(id), start);
  }
  return not_found(*ctx, req, "no resource at " + std::string{path}, start);
}

} // namespace tmf::http
