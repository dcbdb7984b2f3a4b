#pragma once

// `tmf629d verify`: reads a data folder and reports what it finds -- every
// customer row parses within the limits this build keeps, starts with its
// own id, passes the customer schema, and every built secondary index
// holds exactly the entries the rows call for, with the count of each of
// its terms (`index_counts`) equal to its entries. It only reads.

#include <cstdint>
#include <ostream>
#include <string>

namespace tmf {

/// What `verify_store` found.
struct verify_report {
  uint64_t rows = 0;           ///< customer rows read
  uint64_t index_entries = 0;  ///< secondary-index entries read
  uint64_t problems = 0;       ///< rows or entries that are not right
};

/// Checks the LMDB folder `data_dir` (map size `map_size`), writing one
/// line per problem (at most `max_lines`, then a count) and a summary to
/// `out`. Returns false with `error` set when the folder cannot be read.
bool verify_store(const std::string& data_dir, uint64_t map_size,
                  std::ostream& out, verify_report& report,
                  std::string& error, uint64_t max_lines = 100);

} // namespace tmf
