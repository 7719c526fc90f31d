#pragma once
/// \file
/// What a checkpoint reader made of a file, kept for the rest of the process. A run makes its
/// pretrained backbone several times (the parameter count for the records, each dataset part's
/// features, each student's model), and each make read and converted the whole file again: for
/// MPNet-base 438 MB read and converted to float32 and checked finite, for SmolLM2 every Q4_1
/// tensor dequantised, seconds per make. Now the first make reads it and later ones copy the
/// converted tensors.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "w2s/core/error.hpp"

namespace w2s {

/// `read()`'s value for `file`, read once per process, file and `tag` (what was read from it): a
/// file replaced since (another size or modification time) is read again, and one modified in the
/// last two seconds is read every time. The value is shared: callers copy out of it, never into it.
template <class T>
std::shared_ptr<const T> memo_by_file(const std::filesystem::path& file, const std::string& tag,
                                      const std::function<T()>& read) {
  struct ::stat st {};
  check(::stat(file.c_str(), &st) == 0, file.string(), ": cannot read the file");
  std::error_code ec;
  const auto canonical = std::filesystem::weakly_canonical(file, ec);
  const std::string key = (ec ? file : canonical).string() + "|" + std::to_string(st.st_size) + "|" +
                          std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + "|" + tag;
  // A file changed in the last two seconds may change again within the clock's resolution (a test
  // rewriting a checkpoint in place at the same size): read it every time.
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto changed = std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  if (now - changed < std::chrono::seconds(2)) return std::make_shared<const T>(read());
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const T>> memo;
  std::lock_guard<std::mutex> hold(mutex);
  if (const auto it = memo.find(key); it != memo.end()) return it->second;
  auto value = std::make_shared<const T>(read());  // an error leaves nothing behind: the next call reads again
  memo[key] = value;
  return value;
}

}  // namespace w2s
