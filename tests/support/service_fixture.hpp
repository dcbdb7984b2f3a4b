#pragma once

// The common part of the black-box tests' fixtures: a tmf629d on a fresh
// data folder, a keep-alive client of it, and the two requests most tests
// make (create a customer, count customers). Test files derive their own
// fixture from it.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/service.hpp"

namespace tmf::test {

struct service_fixture {
  temp_dir dir;
  service svc;
  http_client http;

  explicit service_fixture(std::vector<std::string> args = {},
                           service_options opts = {})
    : svc(dir.path() + "/data", std::move(args), opts), http(svc.port()) {
    // nop
  }

  /// POSTs `body` to /customer (201 required); the created resource.
  nlohmann::json post_customer(const nlohmann::json& body) {
    auto r = http.post_json(service::base_path() + "/customer", body.dump());
    INFO(r.body);
    REQUIRE(r.status == 201);
    return nlohmann::json::parse(r.body);
  }

  /// X-Total-Count of `GET /customer?limit=0<query>` (200 or 206 required).
  uint64_t total(const std::string& query = "") {
    auto r = http.get(service::base_path() + "/customer?limit=0" + query);
    INFO(r.body);
    REQUIRE((r.status == 200 || r.status == 206));
    return std::stoull(r.header("x-total-count"));
  }
};

} // namespace tmf::test
