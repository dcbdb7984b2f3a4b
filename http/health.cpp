#include "http/health.hpp"

#include <chrono>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace tmf::http {

namespace {

using json = nlohmann::json;

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// The checks of one readiness request; answers when the last is in.
class readiness {
public:
  readiness(exchange_ptr ex, int checks)
    : ex_(std::move(ex)), pending_(checks), start_(clock::now()) {
    // nop
  }

  void pass(const char* name, json details = json::object()) {
    details["status"] = "pass";
    done(name, std::move(details), true);
  }

  void fail(const char* name, std::string output,
            json details = json::object()) {
    details["status"] = "fail";
    details["output"] = std::move(output);
    done(name, std::move(details), false);
  }

  /// Milliseconds since the checks started.
  double elapsed_ms() const {
    return std::chrono::duration<double, std::milli>(clock::now() - start_)
      .count();
  }

private:
  void done(const char* name, json details, bool passed) {
    json body;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      checks_[name] = std::move(details);
      ok_ = ok_ && passed;
      if (--pending_ > 0)
        return;
      body = json{{"status", ok_ ? "pass" : "fail"}, {"checks", checks_}};
    }
    ex_->reply(ok_ ? status::ok : status::service_unavailable, dump(body),
               {{"Cache-Control", "no-store"}});
  }

  exchange_ptr ex_;
  std::mutex mtx_;
  int pending_;
  bool ok_ = true;
  json checks_ = json::object();
  clock::time_point start_;
};

/// The error text of a failed probe.
std::string probe_error(const http_error& err) {
  if (err.st == status::gateway_timeout)
    return "no answer within ready-timeout";
  return err.message;
}

} // namespace

void answer_live(const exchange_ptr& ex) {
  ex->reply(status::ok, R"({"status":"pass"})",
            {{"Cache-Control", "no-store"}});
}

void answer_ready(const exchange_ptr& ex) {
  auto& ctx = ex->ctx();
  if (ctx.unready.load() || ctx.stopping.load()) {
    json body{{"status", "fail"},
              {"checks",
               {{"shutdown",
                 {{"status", "fail"},
                  {"output", "the service is shutting down"}}}}}};
    return ex->reply(status::service_unavailable, dump(body),
                     {{"Cache-Control", "no-store"}});
  }
  auto checks = std::make_shared<readiness>(ex, 4);
  checks->pass("shutdown");
  auto on_error = [checks](const char* name) {
    return [checks, name](const caf::error& err) {
      checks->fail(name, probe_error(map_error(err)),
                   {{"latencyMs", checks->elapsed_ms()}});
    };
  };
  if (ctx.cfg.writer) {
    ctx.probe_gw.ask(
      ctx.cfg.writer,
      [checks](std::string& problem) {
        json details{{"latencyMs", checks->elapsed_ms()}};
        if (problem.empty())
          checks->pass("store", std::move(details));
        else
          checks->fail("store", std::move(problem), std::move(details));
      },
      on_error("store"), probe_atom_v);
  } else {
    checks->fail("store", "no store writer to probe");
  }
  ctx.probe_gw.ask(
    ctx.router,
    [checks](uint64_t resident) {
      checks->pass("actors", {{"latencyMs", checks->elapsed_ms()},
                              {"residentCustomers", resident}});
    },
    on_error("actors"), probe_atom_v);
  auto max_backlog = ctx.cfg.ready_max_backlog;
  ctx.probe_gw.ask(
    ctx.notifier,
    [checks, max_backlog](uint64_t backlog) {
      json details{{"latencyMs", checks->elapsed_ms()},
                   {"backlog", backlog},
                   {"maxBacklog", max_backlog}};
      if (backlog <= max_backlog)
        checks->pass("hub", std::move(details));
      else
        checks->fail("hub",
                     "the event backlog exceeds ready-max-backlog",
                     std::move(details));
    },
    on_error("hub"), probe_atom_v);
}

} // namespace tmf::http
