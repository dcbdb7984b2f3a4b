// The sanitizer build's own check (TMF_SANITIZERS with undefined): binds a
// reference to a null std::shared_ptr<int> in our code, the same kind of
// report that tests/ubsan.supp silences for CAF's std::tuple<>. The test
// passes only when UBSan reports it and stops the program, so it fails
// when the suppressions grow beyond CAF's case or a report no longer stops
// a test (`null` is compiled recoverable; halt_on_error=1 must stop it).

#include <cstdio>
#include <memory>

int main(int argc, char**) {
  std::shared_ptr<int> none;
  if (argc > 1)
    none = std::make_shared<int>(argc);
  int& value = *none;
  std::printf("survived the null reference at %p\n",
              static_cast<void*>(&value));
  return 0;
}
