// tmf629d: the TMF629 Customer Management API v4.0.0 service.
//
// Start-up order: configuration -> store (LMDB, writer, readers) -> router
// -> HTTP. On SIGINT/SIGTERM the reverse: HTTP stops accepting and drains,
// the router stops its customers, the store commits what is pending and
// closes LMDB.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sched.h>
#include <sys/resource.h>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/config.hpp"
#include "actors/cluster.hpp"
#include "actors/index_builder.hpp"
#include "actors/shard_mover.hpp"
#include "actors/log.hpp"
#include "actors/metrics.hpp"
#include "actors/notifier.hpp"
#include "actors/protocol.hpp"
#include "actors/router.hpp"
#include "actors/store.hpp"
#include "http/auth.hpp"
#include "http/rate_limit.hpp"
#include "http/server.hpp"
#include "persistence/lmdb_store.hpp"
#include "verify.hpp"

namespace {

/// Blocks until SIGINT, SIGTERM or SIGHUP arrives; returns its number.
int wait_for_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
    // retry
  }
  return sig;
}

/// Blocks SIGINT, SIGTERM and SIGHUP in this thread and every thread it
/// starts, so that only `wait_for_signal` receives them.
void block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
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

/// The cluster parts of this node.
struct cluster_parts {
  tmf::cluster_config cfg;
  uint64_t incarnation = 0;
  std::shared_ptr<tmf::cluster_routing> routing;
  tmf::gateway_actor gateway;
  tmf::shard_mover_actor mover;
};

/// Spawns the links to the peers; the router gets them as its routing.
cluster_parts start_cluster_links(caf::actor_system& sys,
                                  const tmf::settings& s,
                                  tmf::notifier_actor notifier) {
  cluster_parts parts;
  parts.cfg.members = *s.cluster;
  parts.cfg.request_timeout = s.cluster_request_timeout;
  parts.cfg.retry_period = s.cluster_retry_period;
  parts.cfg.tls = s.cluster_tls;
  parts.incarnation = tmf::make_incarnation();
  auto routing = std::make_shared<tmf::cluster_routing>();
  std::vector<std::string> names;
  for (const auto& m : s.cluster->members)
    names.push_back(m.name);
  routing->table = std::make_shared<tmf::domain::shard_table>(names);
  routing->self = static_cast<size_t>(
    std::find(names.begin(), names.end(), s.cluster->self) - names.begin());
  routing->own_shards = routing->table->shards_of(routing->self);
  routing->max_window = s.cluster_max_window;
  routing->links = tmf::spawn_links(sys, parts.cfg, parts.incarnation,
                                    notifier);
  caf::anon_send(notifier, tmf::start_atom_v, routing->links);
  parts.routing = std::move(routing);
  return parts;
}

/// Spawns the shard mover, which takes over the shards this node owns but
/// does not hold yet (and hands over the others).
void start_shard_mover(caf::actor_system& sys, const tmf::settings& s,
                       cluster_parts& parts, tmf::store_writer_actor writer,
                       tmf::router_actor router,
                       std::shared_ptr<tmf::persistence::environment> env) {
  tmf::shard_mover_config mc;
  mc.routing = parts.routing;
  mc.writer = std::move(writer);
  mc.router = std::move(router);
  mc.env = std::move(env);
  mc.retry_period = s.cluster_retry_period;
  mc.request_timeout = s.cluster_request_timeout;
  parts.mover = tmf::spawn_shard_mover(sys, std::move(mc));
}

/// Spawns and publishes this node's gateway on its CAF address, then lets
/// the links dial. Returns one line on failure.
std::string publish_gateway(caf::actor_system& sys, const tmf::settings& s,
                            tmf::gateway_targets targets,
                            cluster_parts& parts) {
  targets.mover = parts.mover;
  parts.gateway = tmf::spawn_gateway(sys, parts.cfg, parts.incarnation,
                                     std::move(targets), parts.routing->links);
  const auto& self = s.cluster->members[parts.routing->self];
  auto address = s.cluster_address.empty() ? self.host : s.cluster_address;
  auto published
    = s.cluster_tls
        ? caf::openssl::publish(parts.gateway, self.port, address.c_str(),
                                true)
        : sys.middleman().publish(parts.gateway, self.port, address.c_str(),
                                  true);
  if (!published)
    return "cluster: cannot publish on " + address + ":"
           + std::to_string(self.port) + ": " + sys.render(published.error());
  tmf::log::info("cluster: node " + self.name + " published on " + address
                 + ":" + std::to_string(*published));
  for (auto& link : parts.routing->links)
    if (link)
      caf::anon_send(link, tmf::start_atom_v,
                     caf::actor_cast<caf::actor>(parts.gateway));
  return {};
}

/// Stops the links and the gateway (pending forwarded requests fail).
void stop_cluster(cluster_parts& parts) {
  for (auto& link : parts.routing->links)
    if (link)
      caf::anon_send_exit(link, caf::exit_reason::user_shutdown);
  if (parts.gateway)
    caf::anon_send_exit(parts.gateway, caf::exit_reason::user_shutdown);
  if (parts.mover)
    caf::anon_send_exit(parts.mover, caf::exit_reason::user_shutdown);
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
    if (opt.category() != "tmf" && opt.category() != "cluster")
      continue;
    std::string name = "  --";
    name.append(opt.category().data(), opt.category().size());
    name += '.';
    name.append(opt.long_name().data(), opt.long_name().size());
    // CAF 0.17 takes a boolean as a bare flag on the command line
    // (`--cluster.tls`); `--cluster.tls=true` is an illegal argument.
    if (!opt.is_flag()) {
      name += "=<";
      name.append(opt.type_name().data(), opt.type_name().size());
      name += ">";
    }
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
  if (s.cluster) {
    hs.node_name = s.cluster->self;
    auto table = std::make_shared<tmf::domain::shard_table>([&] {
      std::vector<std::string> names;
      for (const auto& m : s.cluster->members)
        names.push_back(m.name);
      return names;
    }());
    hs.owner_of = [table](std::string_view id) {
      return table->names()[table->owner(tmf::domain::shard_of(id))];
    };
  }
  hs.request_timeout = s.request_timeout;
  hs.request_log_level = s.request_log_level;
  hs.partial_content = s.partial_content;
  hs.ready_timeout = s.ops.ready_timeout;
  hs.ready_max_backlog = s.ops.ready_max_backlog;
  hs.tls = s.ops.tls;
  hs.tls_port = s.ops.tls_port;
  hs.tls_cert_file = s.ops.tls_cert_file;
  hs.tls_key_file = s.ops.tls_key_file;
  hs.tls13_only = s.ops.tls13_only;
  if (s.ops.rate_limit > 0)
    hs.rate_limit = std::make_shared<tmf::http::rate_limiter>(
      s.ops.rate_limit, s.ops.rate_limit_burst, s.ops.rate_limit_clients);
  return hs;
}

/// The authenticator of the settings (null when auth is off); throws
/// std::runtime_error naming a key file that cannot be used.
std::shared_ptr<tmf::http::authenticator>
make_authenticator(const tmf::ops_settings& s) {
  if (!s.auth)
    return nullptr;
  tmf::http::auth_settings as;
  as.api_keys_file = s.auth_api_keys_file;
  as.jwt_secret_file = s.auth_jwt_secret_file;
  as.jwt_public_key_file = s.auth_jwt_public_key_file;
  as.jwt_jwks_file = s.auth_jwt_jwks_file;
  as.issuer = s.auth_jwt_issuer;
  as.audience = s.auth_jwt_audience;
  as.leeway = std::chrono::duration_cast<std::chrono::seconds>(
    s.auth_jwt_leeway);
  as.read_scope = s.auth_read_scope;
  as.write_scope = s.auth_write_scope;
  as.protect_metrics = s.metrics_auth;
  return std::make_shared<tmf::http::authenticator>(std::move(as));
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
  nc.delivery_nice = s.batch_scheduling ? 10 : 0;
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

/// The actors of one node, and how to stop them in order.
struct service_actors {
  tmf::store_writer_actor writer;
  tmf::notifier_actor notifier;
  tmf::router_actor router;
  tmf::index_builder_actor builder;
  /// The loader, the fast lane and the list readers.
  std::vector<tmf::store_reader_actor> readers;
  std::optional<cluster_parts> cluster;
  /// When running list queries stop (0: not shutting down).
  std::shared_ptr<std::atomic<int64_t>> stop_at
    = std::make_shared<std::atomic<int64_t>>(0);

  /// Running list queries stop `t` from now (answering 503).
  void stop_queries_in(caf::timespan t) {
    auto at = std::chrono::system_clock::now().time_since_epoch() + t;
    stop_at->store(std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::nanoseconds>(at).count()));
  }

  /// The cluster parts first, then the index builder (it stops between two
  /// batches), the router (its customers answer or fail their last
  /// requests) and the notifier (it stores its positions), then the store
  /// actors.
  void stop(caf::actor_system& sys) {
    stop_queries_in(caf::timespan{0});
    if (cluster)
      stop_cluster(*cluster);
    {
      caf::scoped_actor self{sys};
      for (auto handle : {caf::actor_cast<caf::actor>(builder),
                          caf::actor_cast<caf::actor>(router),
                          caf::actor_cast<caf::actor>(notifier)}) {
        if (!handle)
          continue;
        caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
        self->wait_for(handle);
      }
    }
    for (auto& r : readers)
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
  }
};

/// Spawns the store writer and readers, the notifier, the router, the
/// index builder and, in a cluster, the links, the shard mover and the
/// published gateway. Returns one line on failure (the actors already
/// spawned are stopped).
std::string start_actors(caf::actor_system& sys, const tmf::settings& s,
                         std::shared_ptr<tmf::persistence::environment> env,
                         const tmf::index_setup& indexes,
                         const tmf::actor_metrics& instruments,
                         service_actors& out) {
  out.writer = tmf::spawn_store_writer(sys, env, s.max_batch, instruments,
                                       indexes.layout);
  auto nc = notifier_config(s, out.writer, env);
  nc.metrics = instruments;
  out.notifier = tmf::spawn_notifier(sys, std::move(nc));
  caf::anon_send(out.writer, tmf::start_atom_v, out.notifier);
  tmf::router_config rc;
  rc.writer = out.writer;
  rc.metrics = instruments;
  rc.layout = indexes.layout;
  tmf::reader_config lane;
  lane.env = env;
  lane.layout = indexes.layout;
  lane.stop_at = out.stop_at;
  lane.max_sort_window = s.max_sort_window;
  lane.metrics = instruments;
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
  out.readers = rc.readers;
  out.readers.push_back(rc.loader);
  out.readers.push_back(rc.fast);
  if (s.cluster) {
    out.cluster = start_cluster_links(sys, s, out.notifier);
    rc.cluster = out.cluster->routing;
  }
  auto loader = rc.loader;
  out.router = tmf::spawn_router(sys, std::move(rc));
  out.builder = tmf::spawn_index_builder(
    sys, tmf::builder_config{env, out.writer, out.router, indexes});
  if (!out.cluster)
    return {};
  start_shard_mover(sys, s, *out.cluster, out.writer, out.router,
                    std::move(env));
  // Exports read a bounded chunk at a time: the loader's normal priority,
  // never starved behind scans as a background reader may be.
  tmf::gateway_targets targets{out.router, loader, {}, out.notifier};
  auto msg = publish_gateway(sys, s, targets, *out.cluster);
  if (!msg.empty())
    out.stop(sys);
  return msg;
}

/// Waits for SIGTERM or SIGINT and returns it; on SIGHUP, new HTTPS
/// handshakes take the certificate and key read then.
int wait_for_stop_signal(const tmf::settings& s, tmf::http::server& http) {
  auto sig = wait_for_signal();
  for (; sig == SIGHUP; sig = wait_for_signal()) {
    std::string why;
    if (!s.ops.tls)
      tmf::log::info("received SIGHUP; nothing to reload (tls=off)");
    else if (http.reload_tls(why))
      tmf::log::info("received SIGHUP; reloaded the TLS certificate and "
                     "key");
    else
      tmf::log::error("received SIGHUP; the TLS certificate and key "
                      "stay as they were: " + why);
  }
  return sig;
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
  tmf::log::set_json(s.ops.json_logs);
  std::shared_ptr<tmf::http::authenticator> auth;
  try {
    auth = make_authenticator(s.ops);
  } catch (const std::exception& e) {
    return fail(std::string{"tmf.auth: "} + e.what());
  }

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

  if (s.cluster)
    cfg.load<caf::io::middleman>();
  if (s.cluster_tls)
    cfg.load<caf::openssl::manager>();
  // Metrics first: the actors record into them from their first message.
  std::shared_ptr<tmf::metrics_registry> metrics;
  tmf::actor_metrics instruments;
  if (s.ops.metrics) {
    metrics = std::make_shared<tmf::metrics_registry>();
    metrics->watch_store(env);
    instruments = metrics->actors();
  }

  caf::actor_system sys{cfg};
  service_actors actors;
  if (auto msg = start_actors(sys, s, std::move(env), indexes, instruments,
                             actors);
      !msg.empty())
    return fail(msg);

  std::unique_ptr<tmf::http::server> http;
  try {
    auto hs = http_settings(s);
    hs.layout = indexes.layout;
    hs.writer = actors.writer;
    hs.metrics = metrics;
    hs.auth = auth;
    http = std::make_unique<tmf::http::server>(sys, actors.router,
                                               actors.notifier,
                                               std::move(hs));
  } catch (const std::exception& e) {
    actors.stop(sys);
    return fail(e.what());
  }
  // Events are delivered once their href can be built.
  caf::anon_send(actors.notifier, tmf::start_atom_v, http->href_base());
  auto listening = http->url();
  if (auto tls = http->tls_url(); !tls.empty())
    listening += " and " + tls;
  std::printf("listening on %s\n", listening.c_str());
  std::fflush(stdout);
  tmf::log::info("listening on " + listening);

  auto sig = wait_for_stop_signal(s, *http);
  tmf::log::info(std::string{"received "}
                 + (sig == SIGINT ? "SIGINT" : "SIGTERM")
                 + ", shutting down");
  // Readiness fails first, so that a load balancer stops sending; requests
  // are still served meanwhile.
  http->mark_unready();
  if (s.ops.unready_delay.count() > 0)
    std::this_thread::sleep_for(s.ops.unready_delay);
  // A long scan answers 503 before the drain ends, starved or not.
  actors.stop_queries_in(s.shutdown_timeout * 3 / 4);
  tmf::end_background_readers();
  http->stop(s.shutdown_timeout);
  actors.stop(sys);
  http.reset(); // after the actors: they may hold request handles
  tmf::log::info("stopped");
  return 0;
}
