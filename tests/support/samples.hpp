#pragma once

// Sample customers shared by the tests.

#include <string>

namespace tmf::test {

/// A valid customer body for POST with a unique name: engagedParty,
/// contactMedium, characteristic, validFor.
std::string sample_customer(const std::string& name);

} // namespace tmf::test
