#pragma once

// One list query answered from one LMDB read snapshot, following the plan
// of domain/query_plan.hpp. Internal to the store readers.
//
// Memory: a page holds at most `limit` texts; a sort that no index gives
// in order keeps at most offset+limit small entries (a bounded top-k);
// nothing grows with the store. Time: every loop checks the deadline and
// the shutdown flag and stops at once past them.

#include <optional>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/protocol.hpp"
#include "actors/store.hpp"

namespace tmf::persistence {
class read_txn;
}

namespace tmf::domain {
class compiled_filters;
}

namespace tmf {

/// How a list run ended when it produced no page: an error to answer, or
/// the advice to hand the query to a reader that may be busy for long.
struct list_outcome {
  std::optional<list_page> page;
  caf::error error;
  bool hand_over = false;
};

/// Answers `q` from `txn`. `fast` marks the fast lane: a plan that would
/// read more than `cfg.handover` customers is handed over instead.
list_outcome run_list(persistence::read_txn& txn, const list_query& q,
                      const domain::compiled_filters& filters,
                      const reader_config& cfg, bool fast);

} // namespace tmf
