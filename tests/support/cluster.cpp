#include "support/cluster.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "domain/cluster_map.hpp"
#include "domain/customer_id.hpp"

#ifndef TMF629D_PATH
#  error "TMF629D_PATH must name the tmf629d binary"
#endif
#ifndef TMF_SOURCE_DIR
#  error "TMF_SOURCE_DIR must name the source tree"
#endif

namespace tmf::test {

namespace {

const std::string script = TMF_SOURCE_DIR "/scripts/cluster.sh";

std::string read_text(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in{text};
  std::vector<std::string> out;
  std::string word;
  while (in >> word)
    out.push_back(word);
  return out;
}

std::vector<char*> make_argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

/// The nodes in `dir`/nodes: name, CAF port, HTTP port per line.
std::vector<std::vector<std::string>> node_table(const std::string& dir) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in{read_text(dir + "/nodes")};
  std::string line;
  while (std::getline(in, line)) {
    auto words = split_words(line);
    if (words.size() == 3)
      out.push_back(std::move(words));
  }
  return out;
}

/// Makes this process the reaper of the nodes once cluster.sh, their
/// parent, has exited: their exit can then be waited for (PID 1 of some
/// containers never reaps, leaving zombies that look alive to kill -0).
void become_subreaper() {
  static bool done = [] {
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    return true;
  }();
  static_cast<void>(done);
}

} // namespace

command_result run_command(const std::vector<std::string>& args,
                           const std::vector<std::string>& env,
                           std::chrono::milliseconds limit) {
  command_result out;
  char tmpl[] = "/tmp/tmf629-cmd.XXXXXX";
  auto fd = mkstemp(tmpl);
  if (fd < 0)
    return out;
  auto pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    auto devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      dup2(devnull, STDIN_FILENO);
    for (const auto& kv : env)
      putenv(const_cast<char*>(kv.c_str()));
    auto all = args;
    auto argv = make_argv(all);
    execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(fd);
  if (pid < 0) {
    unlink(tmpl);
    return out;
  }
  setpgid(pid, pid);
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  bool done = false;
  while (!done) {
    auto r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      done = true;
    } else if (r < 0 && errno != EINTR) {
      break;
    } else if (std::chrono::steady_clock::now() >= deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      status = -1;
      done = true;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  out.output = read_text(tmpl);
  unlink(tmpl);
  if (done && status != -1 && WIFEXITED(status))
    out.exit_code = WEXITSTATUS(status);
  return out;
}

bool process_alive(pid_t pid) {
  if (pid <= 0)
    return false;
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid)
    return false;
  if (kill(pid, 0) != 0)
    return false;
  // A zombie that is not our child cannot be reaped here.
  auto stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= stat.size())
    return false;
  return stat[close_paren + 2] != 'Z';
}

size_t occurrences(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (auto pos = text.find(part); pos != std::string::npos;
       pos = text.find(part, pos + 1))
    ++n;
  return n;
}

local_cluster::local_cluster(size_t n, std::vector<std::string> extra) {
  become_subreaper();
  dir_ = tmp_.path() + "/cluster";
  std::vector<std::string> args{"/bin/bash", script, "up", std::to_string(n),
                                dir_};
  args.insert(args.end(), extra.begin(), extra.end());
  auto res = run_command(args, {"TMF629D=" TMF629D_PATH},
                         std::chrono::seconds(90));
  up_output_ = res.output;
  read_nodes(res.output);
  if (res.exit_code != 0 || nodes_.size() != n) {
    std::string logs;
    for (const auto& row : node_table(dir_))
      logs += "\n--- " + row[0] + " log:\n" + log(row[0]);
    // The script stops what it started when it fails; the destructor
    // does not run for a throwing constructor.
    run_command({"/bin/bash", script, "down", dir_}, {},
                std::chrono::seconds(40));
    for (const auto& row : node_table(dir_)) {
      auto pid = std::atoi(read_text(dir_ + "/" + row[0] + "/pid").c_str());
      if (process_alive(pid))
        kill(pid, SIGKILL);
    }
    throw std::runtime_error("cluster.sh up " + std::to_string(n)
                             + " failed (exit " + std::to_string(res.exit_code)
                             + "): " + res.output + logs);
  }
}

local_cluster::~local_cluster() {
  // A stopped node ignores SIGTERM until it continues.
  for (const auto& nd : nodes_)
    if (process_alive(nd.pid))
      kill(nd.pid, SIGCONT);
  run_command({"/bin/bash", script, "down", dir_}, {},
              std::chrono::seconds(40));
  for (const auto& nd : nodes_) {
    if (process_alive(nd.pid)) {
      kill(nd.pid, SIGKILL);
      wait_until([&] { return !process_alive(nd.pid); },
                 std::chrono::seconds(5));
    }
  }
}

void local_cluster::read_nodes(const std::string& output) {
  std::istringstream in{output};
  std::string line;
  auto table = node_table(dir_);
  while (std::getline(in, line)) {
    auto words = split_words(line);
    if (words.size() != 4 || words[0] != "node")
      continue;
    cluster_node nd;
    nd.name = words[1];
    nd.pid = static_cast<pid_t>(std::atoi(words[2].c_str()));
    nd.url = words[3];
    auto colon = nd.url.find(':', nd.url.find("//"));
    nd.port = static_cast<uint16_t>(std::atoi(nd.url.c_str() + colon + 1));
    for (const auto& row : table)
      if (row[0] == nd.name)
        nd.caf_port = static_cast<uint16_t>(std::atoi(row[1].c_str()));
    auto i = std::find_if(nodes_.begin(), nodes_.end(),
                          [&](const cluster_node& x) {
                            return x.name == nd.name;
                          });
    if (i == nodes_.end())
      nodes_.push_back(std::move(nd));
    else
      *i = std::move(nd);
  }
}

const cluster_node& local_cluster::node(const std::string& name) const {
  for (const auto& nd : nodes_)
    if (nd.name == name)
      return nd;
  throw std::runtime_error("no node " + name);
}

cluster_node& local_cluster::mutable_node(const std::string& name) {
  for (auto& nd : nodes_)
    if (nd.name == name)
      return nd;
  throw std::runtime_error("no node " + name);
}

std::vector<std::string> local_cluster::names() const {
  std::vector<std::string> out;
  for (const auto& nd : nodes_)
    out.push_back(nd.name);
  return out;
}

std::string local_cluster::owner_of(const std::string& id) const {
  domain::shard_table table{names()};
  return table.names()[table.owner(domain::shard_of(id))];
}

std::string local_cluster::log(const std::string& name) const {
  return read_text(dir_ + "/" + name + "/log");
}

void local_cluster::signal(const std::string& name, int sig) {
  kill(node(name).pid, sig);
}

bool local_cluster::wait_exit(const std::string& name,
                              std::chrono::milliseconds limit) {
  auto pid = node(name).pid;
  return wait_until([&] { return !process_alive(pid); }, limit);
}

void local_cluster::restart(const std::string& name) {
  auto res = run_command({"/bin/bash", script, "start", dir_, name},
                         {"TMF629D=" TMF629D_PATH}, std::chrono::seconds(60));
  read_nodes(res.output);
  if (res.exit_code != 0)
    throw std::runtime_error("cluster.sh start " + name + " failed (exit "
                             + std::to_string(res.exit_code)
                             + "): " + res.output + "\n--- log:\n"
                             + log(name));
}

void local_cluster::grow() {
  auto res = run_command({"/bin/bash", script, "grow", dir_},
                         {"TMF629D=" TMF629D_PATH}, std::chrono::seconds(150));
  read_nodes(res.output);
  if (res.exit_code != 0) {
    std::string logs;
    for (const auto& row : node_table(dir_))
      logs += "\n--- " + row[0] + " log:\n" + log(row[0]);
    throw std::runtime_error("cluster.sh grow failed (exit "
                             + std::to_string(res.exit_code)
                             + "): " + res.output + logs);
  }
}

void local_cluster::start_with(const std::string& name,
                               const std::vector<std::string>& extra) {
  std::vector<std::string> row;
  for (auto& r : node_table(dir_))
    if (r[0] == name)
      row = r;
  if (row.empty())
    throw std::runtime_error("no node " + name + " in " + dir_);
  auto binary = split_words(read_text(dir_ + "/binary"));
  if (binary.size() != 1)
    throw std::runtime_error("cannot read " + dir_ + "/binary");
  std::vector<std::string> args{binary[0],
                                "--config-file=" + dir_ + "/cluster.ini",
                                "--cluster.self=" + name,
                                "--tmf.port=" + row[2],
                                "--tmf.data-dir=" + dir_ + "/" + name
                                  + "/data"};
  for (auto& a : split_words(read_text(dir_ + "/args")))
    args.push_back(a);
  args.insert(args.end(), extra.begin(), extra.end());
  auto out_path = dir_ + "/" + name + "/out";
  auto log_path = dir_ + "/" + name + "/log";
  auto seen_before = read_text(out_path).size();
  auto pid = fork();
  if (pid < 0)
    throw std::runtime_error("fork failed");
  if (pid == 0) {
    setsid();
    auto out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    auto err = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    auto devnull = open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || devnull < 0)
      _exit(126);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    dup2(devnull, STDIN_FILENO);
    auto argv = make_argv(args);
    execv(argv[0], argv.data());
    _exit(127);
  }
  {
    std::ofstream pid_file{dir_ + "/" + name + "/pid"};
    pid_file << pid << '\n';
  }
  mutable_node(name).pid = pid;
  auto listening = wait_until(
    [&] {
      auto text = read_text(out_path);
      return text.size() > seen_before
             && text.find("listening on ", seen_before) != std::string::npos;
    },
    std::chrono::seconds(20));
  if (!listening)
    throw std::runtime_error("node " + name + " did not start: "
                             + log(name));
}

} // namespace tmf::test
