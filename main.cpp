// tmf629d: the TMF629 Customer Management API v4.0.0 service.
//
// Start-up order: configuration -> store (LMDB, writer, readers) -> router
// -> HTTP. On SIGINT/SIGTERM the reverse: HTTP stops accepting and drains,
// the router stops its customers, the store commits what is pending and
// closes LMDB.

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <sched.h>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/config.hpp"
#include "actors/log.hpp"
#include "actors/protocol.hpp"
#include "actors/router.hpp"
#include "actors/store.hpp"
#include "http/server.hpp"
#include "persistence/lmdb_store.hpp"

namespace {

/// Blocks until SIGINT or SIGTERM arrives; returns its number.
int wait_for_termination() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
    // retry
  }
  return sig;
}

/// Blocks SIGINT and SIGTERM in this thread and every thread it starts, so
/// that only `wait_for_termination` receives them.
void block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

/// Makes a write beyond the file-size limit (RLIMIT_FSIZE) fail with EFBIG,
/// which the store answers as `full` (507, nothing written), instead of
/// SIGXFSZ killing the process with writes in flight.
void ignore_file_size_signal() {
  std::signal(SIGXFSZ, SIG_IGN);
}

/// Puts this thread, and every thread it starts from now on, under
/// SCHED_BATCH: a thread woken by another (the CAF worker by the HTTP
/// thread, the HTTP thread by a reply) then waits until the running one
/// blocks or its time slice ends, instead of preempting it for every
/// message. On a small machine that halves the context switches per
/// request; latency stays bounded by the scheduler's time slice.
void use_batch_scheduling() {
  sched_param param{};
  param.sched_priority = 0;
  if (sched_setscheduler(0, SCHED_BATCH, &param) != 0)
    tmf::log::warning(std::string{"cannot use SCHED_BATCH: "}
                      + std::strerror(errno) + "; continuing with normal "
                      "scheduling");
}

int fail(const std::string& line) {
  std::fprintf(stderr, "tmf629d: %s\n", line.c_str());
  return 1;
}

bool wants_help(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "-?")
      return true;
  }
  return false;
}

/// Prints the usage and every `[tmf]` key to standard output.
void print_help(const tmf::config& cfg) {
  std::string text
    = "usage: tmf629d [--config-file=PATH] [--tmf.KEY=VALUE ...]\n\n"
      "TMF629 Customer Management API v4.0.0 service. Keys come from the\n"
      "[tmf] group of the config file; the command line overrides them.\n\n";
  for (const auto& opt : cfg.options()) {
    if (opt.category() != "tmf")
      continue;
    std::string name = "  --tmf.";
    name.append(opt.long_name().data(), opt.long_name().size());
    name += "=<";
    name.append(opt.type_name().data(), opt.type_name().size());
    name += ">";
    if (name.size() < 34)
      name.resize(34, ' ');
    text += name + " ";
    text.append(opt.description().data(), opt.description().size());
    text += '\n';
  }
  text += "\n--long-help also lists the CAF options ([scheduler], ...).\n";
  std::fputs(text.c_str(), stdout);
}

} // namespace

int main(int argc, char** argv) {
  block_termination_signals();
  ignore_file_size_signal();
  tmf::config cfg;
  cfg.add_message_types<caf::id_block::tmf>();
  if (wants_help(argc, argv)) {
    print_help(cfg);
    return 0;
  }
  if (auto err = cfg.parse(argc, argv))
    return fail("bad option: " + caf::actor_system_config::render(err));
  if (cfg.cli_helptext_printed)
    return 0;
  if (!cfg.remainder.empty())
    return fail("unknown argument '" + cfg.remainder.front()
                + "' (try --help)");
  tmf::settings s;
  if (auto msg = cfg.validate(s); !msg.empty())
    return fail(msg);
  tmf::log::set_threshold(static_cast<tmf::log::level>(s.log_level));

  // Store.
  std::string error;
  std::shared_ptr<tmf::persistence::environment> env
    = tmf::persistence::environment::open({s.data_dir, s.map_size, 126},
                                          error);
  if (!env)
    return fail(error);
  tmf::log::info("tmf629d starting: " + tmf::describe(s));
  if (s.batch_scheduling)
    use_batch_scheduling(); // before any thread starts: they inherit it

  caf::actor_system sys{cfg};
  auto writer = tmf::spawn_store_writer(sys, env, s.max_batch);
  tmf::router_config rc;
  rc.writer = writer;
  for (size_t i = 0; i < s.readers; ++i)
    rc.readers.push_back(tmf::spawn_store_reader(sys, env));
  rc.loader = tmf::spawn_store_reader(sys, env);
  rc.idle_timeout = s.idle_timeout;
  rc.load_timeout = s.request_timeout;
  rc.max_resident = s.max_resident;
  auto readers = rc.readers;
  readers.push_back(rc.loader);
  env.reset(); // the store actors own it now
  auto router = tmf::spawn_router(sys, std::move(rc));

  auto stop_actors = [&] {
    caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
    {
      // The customers answer (or fail) their last requests before the
      // store goes away.
      caf::scoped_actor self{sys};
      self->wait_for(router);
    }
    for (auto& r : readers)
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
  };

  // HTTP.
  tmf::http::server_settings hs;
  hs.address = s.address;
  hs.port = s.port;
  hs.public_url = s.public_url;
  hs.base_path = s.base_path;
  hs.io_threads = s.io_threads;
  hs.max_body_size = s.max_body_size;
  hs.default_limit = s.default_limit;
  hs.max_limit = s.max_limit;
  hs.request_timeout = s.request_timeout;
  hs.request_log_level = s.request_log_level;
  std::unique_ptr<tmf::http::server> http;
  try {
    http = std::make_unique<tmf::http::server>(sys, router, hs);
  } catch (const std::exception& e) {
    stop_actors();
    return fail(e.what());
  }
  std::printf("listening on %s\n", http->url().c_str());
  std::fflush(stdout);
  tmf::log::info("listening on " + http->url());

  auto sig = wait_for_termination();
  tmf::log::info(std::string{"received "}
                 + (sig == SIGINT ? "SIGINT" : "SIGTERM")
                 + ", shutting down");
  http->stop(s.shutdown_timeout);
  stop_actors();
  http.reset(); // after the actors: they may hold request handles
  tmf::log::info("stopped");
  return 0;
}
