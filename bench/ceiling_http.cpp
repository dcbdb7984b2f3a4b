// ceiling_http: the HTTP ceiling of bench/. A minimal RESTinio 0.6.16 server
// with the service's threading (one I/O thread, default traits) that answers
// every request with a stored ~1 KiB customer JSON: 200 for GET/PATCH/...,
// 201 for POST, 204 for DELETE. No routing, no JSON work, no storage: what
// any endpoint of the service could at best reach on this machine.
//
// Usage: ceiling_http [--address A] [--port P]   (port 0 = a free port)
// Prints "listening on http://A:P/" once accepting; stops on SIGTERM/SIGINT.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <restinio/all.hpp>

namespace {

const std::string customer_doc = R"json({"id":"0a1-7f3e9c2b5d4a4e6f","href":"http://127.0.0.1:8080/tmf-api/customerManagement/v4/customer/0a1-7f3e9c2b5d4a4e6f","name":"Moon Harbour Logistics 000042","status":"Approved","validFor":{"startDateTime":"2024-01-15T09:30:00Z"},"engagedParty":{"id":"org-000042","name":"Moon Harbour Logistics","@referredType":"Organization"},"contactMedium":[{"mediumType":"email","preferred":true,"characteristic":{"emailAddress":"billing.000042@moonharbour.example","contactType":"billing"}},{"mediumType":"telephoneNumber","preferred":false,"characteristic":{"phoneNumber":"+44 20 7946 0042","contactType":"office"}},{"mediumType":"postalAddress","characteristic":{"street1":"42 Quay Street","city":"Bristol","postCode":"BS1 4XY","country":"GB"}}],"characteristic":[{"name":"segment","value":"enterprise"},{"name":"creditScore","value":742},{"name":"preferredLanguage","value":"en-GB"}],"relatedParty":[{"id":"ind-104233","name":"Ada Lovelace","role":"accountManager","@referredType":"Individual"}],"@type":"Customer"})json";

} // namespace

int main(int argc, char** argv) {
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--address") == 0 && i + 1 < argc)
      address = argv[++i];
    else if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc)
      port = static_cast<uint16_t>(std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: %s [--address A] [--port P]\n", argv[0]);
      return 2;
    }
  }
  // Block the stop signals in every thread; main waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  using traits = restinio::default_traits_t;
  auto settings = restinio::server_settings_t<traits>{};
  settings.address(address)
    .port(port)
    .max_pipelined_requests(1)
    .acceptor_post_bind_hook([address](restinio::asio_ns::ip::tcp::acceptor& a) {
      std::printf("listening on http://%s:%u/\n", address.c_str(),
                  static_cast<unsigned>(a.local_endpoint().port()));
      std::fflush(stdout);
    })
    .request_handler([](restinio::request_handle_t req) {
      const auto method = req->header().method();
      if (method == restinio::http_method_delete())
        return req->create_response(restinio::status_no_content()).done();
      auto status = method == restinio::http_method_post()
                      ? restinio::status_created()
                      : restinio::status_ok();
      return req->create_response(status)
        .append_header(restinio::http_field::content_type, "application/json")
        .set_body(customer_doc)
        .done();
    });
  try {
    auto server = restinio::run_async<traits>(restinio::own_io_context(),
                                              std::move(settings), 1u);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server->stop();
    server->wait();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ceiling_http: %s\n", e.what());
    return 1;
  }
  return 0;
}
