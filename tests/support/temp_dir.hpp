#pragma once

// A fresh folder under /tmp for one test, removed with its content.

#include <string>

namespace tmf::test {

class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const {
    return path_;
  }

private:
  std::string path_;
};

} // namespace tmf::test
