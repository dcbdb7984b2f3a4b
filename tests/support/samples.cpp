#include "support/samples.hpp"

namespace tmf::test {

std::string sample_customer(const std::string& name) {
  return R"({"name":")" + name + R"(","status":"initialized",)"
         R"("@type":"Customer","@baseType":"PartyRole",)"
         R"("engagedParty":{"id":"party-)" + name
         + R"(","name":")" + name + R"(","@referredType":"Organization"},)"
           R"("contactMedium":[{"mediumType":"email","preferred":true,)"
           R"("characteristic":{"emailAddress":"info@example.com"}}],)"
           R"("characteristic":[{"name":"segment","value":"gold"}],)"
           R"("validFor":{"startDateTime":"2024-01-01T00:00:00Z"}})";
}

} // namespace tmf::test
