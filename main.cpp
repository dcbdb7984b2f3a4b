// tmf629d: the TMF629 Customer Management API v4.0.0 service.
//
// Start-up order: configuration -> store (LMDB, writer, readers) -> router
// -> HTTP. On SIGINT/SIGTERM the reverse: HTTP stops accepting and drains,
// the router stops its customers, the store commits what is pending and
// closes LMDB.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <sched.h>
#include <sys/resource.h>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/config.hpp"
#include "actors/index_builder.hpp"
#include "actors/log.hpp"
#include "actors/notifier.hpp"
#include "actors/protocol.hpp"
#include "actors/router.hpp"
#include "actors/store.hpp"
#include "http/server.hpp"
#include "persistence/lmdb_store.hpp"
#include "verify.hpp"

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

/// The query caps of the settings.
tmf::domain::list_limits list_limits(const tmf::settings& s) {
  tmf::domain::list_limits limits;
  limits.default_limit = s.default_limit;
  limits.max_limit = s.max_limit;
  limits.max_filters = s.max_filters;
  limits.max_filter_values = s.max_filter_values;
  limits.max_sort_keys = s.max_sort_keys;
  limits.max_fields = s.max_fields;
  limits.max_regex_length = s.max_regex_length;
  return limits;
}

/// Descriptors kept free of HTTP connections: LMDB, CAF, logs, the
/// gently closed refused connections (http/guarded_socket.cpp) and
/// outbound connections.
constexpr uint64_t reserved_descriptors = 256;

/// Raises the descriptor limit to its hard maximum and returns how many
/// parallel HTTP connections fit below it: `wanted`, or fewer (logged) so
/// that accepting a connection can never run out of descriptors.
size_t fit_connections(size_t wanted) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return wanted;
  if (rl.rlim_cur != rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
      getrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur == RLIM_INFINITY)
    return wanted;
  auto limit = static_cast<uint64_t>(rl.rlim_cur);
  auto fits = limit > 2 * reserved_descriptors ? limit - reserved_descriptors
                                               : limit / 2;
  if (fits == 0 || wanted <= fits)
    return wanted;
  tmf::log::warning("tmf.max-connections " + std::to_string(wanted)
                    + " does not fit the descriptor limit "
                    + std::to_string(limit) + "; serving at most "
                    + std::to_string(fits) + " connections");
  return static_cast<size_t>(fits);
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
    = "usage: tmf629d [verify] [--config-file=PATH] [--tmf.KEY=VALUE ...]\n\n"
      "TMF629 Customer Management API v4.0.0 service. Keys come from the\n"
      "[tmf] group of the config file; the command line overrides them.\n\n"
      "  verify   read the data folder and report what is wrong in it\n"
      "           (rows that do not parse, indexes that do not match);\n"
      "           exit 0: nothing, 2: problems found, 1: cannot read\n\n";
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

/// The HTTP layer's part of the settings.
tmf::http::server_settings http_settings(const tmf::settings& s) {
  tmf::http::server_settings hs;
  hs.address = s.address;
  hs.port = s.port;
  hs.public_url = s.public_url;
  hs.base_path = s.base_path;
  hs.io_threads = s.io_threads;
  hs.max_body_size = s.max_body_size;
  hs.max_json_depth = s.max_json_depth;
  hs.max_url_size = s.max_url_size;
  hs.max_header_size = s.max_header_size;
  hs.max_header_count = s.max_header_count;
  hs.max_connections = fit_connections(s.max_connections);
  hs.max_buffered_bytes = s.max_buffered_bytes;
  hs.limits = list_limits(s);
  hs.listener_log_size = s.listener_log_size;
  hs.request_timeout = s.request_timeout;
  hs.request_log_level = s.request_log_level;
  hs.partial_content = s.partial_content;
  return hs;
}

/// The HTTP settings with the index layout.
tmf::http::server_settings
http_settings(const tmf::settings& s,
              std::shared_ptr<const tmf::domain::index_layout> layout) {
  auto hs = http_settings(s);
  hs.layout = std::move(layout);
  return hs;
}

/// The notifier's part of the settings.
tmf::notifier_config
notifier_config(const tmf::settings& s, tmf::store_writer_actor writer,
                std::shared_ptr<tmf::persistence::environment> env) {
  tmf::notifier_config nc;
  nc.writer = std::move(writer);
  nc.env = std::move(env);
  nc.limits = list_limits(s);
  std::string error; // validated already
  nc.policy.parse(s.hub_callback_allow, s.hub_callback_deny, error);
  nc.max_callback_length = s.hub_max_callback_length;
  nc.max_subscriptions = s.hub_max_subscriptions;
  nc.window = s.hub_window;
  nc.first_retry = s.hub_first_retry;
  nc.max_retry = s.hub_max_retry;
  nc.retry_budget = s.hub_retry_budget;
  nc.stats_interval = s.hub_stats_interval;
  nc.connect_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
    s.hub_connect_timeout);
  nc.delivery_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
    s.hub_delivery_timeout);
  return nc;
}

/// `tmf629d verify`: 0 when the data folder is sound, 2 when it is not,
/// 1 when it cannot be read.
int run_verify(const tmf::settings& s) {
  tmf::verify_report report;
  std::string error;
  if (!tmf::verify_store(s.data_dir, s.map_size, std::cout, report, error))
    return fail(error);
  return report.problems == 0 ? 0 : 2;
}

} // namespace

int main(int argc, char** argv) {
  block_termination_signals();
  ignore_file_size_signal();
  tmf::config cfg;
  tmf::add_message_types(cfg);
  if (wants_help(argc, argv)) {
    print_help(cfg);
    return 0;
  }
  // `tmf629d verify [options]`: the subcommand comes first.
  bool verify = argc > 1 && std::string{argv[1]} == "verify";
  std::vector<char*> args{argv, argv + argc};
  if (verify)
    args.erase(args.begin() + 1);
  if (auto err = cfg.parse(static_cast<int>(args.size()), args.data()))
    return fail("bad option: " + caf::actor_system_config::render(err));
  if (cfg.cli_helptext_printed)
    return 0;
  if (!cfg.remainder.empty())
    return fail("unknown argument '" + cfg.remainder.front()
                + "' (try --help)");
  tmf::settings s;
  if (auto msg = cfg.validate(s); !msg.empty())
    return fail(msg);
  if (verify)
    return run_verify(s);
  tmf::log::set_threshold(static_cast<tmf::log::level>(s.log_level));

  // Store.
  std::string error;
  std::shared_ptr<tmf::persistence::environment> env
    = tmf::persistence::environment::open({s.data_dir, s.map_size, 126},
                                          error);
  if (!env)
    return fail(error);
  tmf::index_setup indexes;
  if (!tmf::prepare_indexes(*env, s.index_paths, indexes, error))
    return fail("data-dir " + s.data_dir
                + ": cannot read or record the index markers: " + error);
  tmf::log::info("tmf629d starting: " + tmf::describe(s));
  if (s.batch_scheduling)
    use_batch_scheduling(); // before any thread starts: they inherit it

  caf::actor_system sys{cfg};
  auto writer = tmf::spawn_store_writer(sys, env, s.max_batch);
  auto notifier = tmf::spawn_notifier(sys, notifier_config(s, writer, env));
  caf::anon_send(writer, tmf::start_atom_v, notifier);
  // When running list queries stop (0: not shutting down).
  auto stop_at = std::make_shared<std::atomic<int64_t>>(0);
  auto stop_queries_in = [stop_at](caf::timespan t) {
    auto at = std::chrono::system_clock::now().time_since_epoch() + t;
    stop_at->store(std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::nanoseconds>(at).count()));
  };
  tmf::router_config rc;
  rc.writer = writer;
  rc.layout = indexes.layout;
  tmf::reader_config lane;
  lane.env = env;
  lane.layout = indexes.layout;
  lane.stop_at = stop_at;
  lane.max_sort_window = s.max_sort_window;
  lane.background = true; // scans yield the CPU to everything else
  for (size_t i = 0; i < s.readers; ++i)
    rc.readers.push_back(tmf::spawn_store_reader(sys, lane));
  lane.background = false;
  rc.loader = tmf::spawn_store_reader(sys, lane);
  lane.overflow = rc.readers; // the fast lane hands big queries over
  rc.fast = tmf::spawn_store_reader(sys, lane);
  rc.idle_timeout = s.idle_timeout;
  rc.load_timeout = s.request_timeout;
  rc.max_resident = s.max_resident;
  auto readers = rc.readers;
  readers.push_back(rc.loader);
  readers.push_back(rc.fast);
  auto router = tmf::spawn_router(sys, std::move(rc));
  auto builder = tmf::spawn_index_builder(
    sys, tmf::builder_config{env, writer, router, indexes});
  env.reset(); // the store actors own it now

  auto stop_actors = [&] {
    stop_queries_in(caf::timespan{0});
    {
      // The index builder stops between two batches; the customers answer
      // (or fail) their last requests, and the notifier stores its
      // positions, before the store goes away.
      caf::scoped_actor self{sys};
      for (auto handle : {caf::actor_cast<caf::actor>(builder),
                          caf::actor_cast<caf::actor>(router),
                          caf::actor_cast<caf::actor>(notifier)}) {
        caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
        self->wait_for(handle);
      }
    }
    for (auto& r : readers)
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
  };

  std::unique_ptr<tmf::http::server> http;
  try {
    http = std::make_unique<tmf::http::server>(
      sys, router, notifier, http_settings(s, indexes.layout));
  } catch (const std::exception& e) {
    stop_actors();
    return fail(e.what());
  }
  // Events are delivered once their href can be built.
  caf::anon_send(notifier, tmf::start_atom_v, http->href_base());
  std::printf("listening on %s\n", http->url().c_str());
  std::fflush(stdout);
  tmf::log::info("listening on " + http->url());

  auto sig = wait_for_termination();
  tmf::log::info(std::string{"received "}
                 + (sig == SIGINT ? "SIGINT" : "SIGTERM")
                 + ", shutting down");
  // A long scan answers 503 before the drain ends, starved or not.
  stop_queries_in(s.shutdown_timeout * 3 / 4);
  tmf::end_background_readers();
  http->stop(s.shutdown_timeout);
  stop_actors();
  http.reset(); // after the actors: they may hold request handles
  tmf::log::info("stopped");
  return 0;
}
