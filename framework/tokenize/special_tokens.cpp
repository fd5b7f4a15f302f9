#include "framework/tokenize/special_tokens.h"

#include <algorithm>

namespace abq::tokenize {

SpecialTokenMatcher::SpecialTokenMatcher(const std::vector<std::pair<std::string, int64_t>>& tokens) {
  for (const auto& token : tokens) {
    if (token.first.empty()) continue;
    by_first_byte_[static_cast<unsigned char>(token.first[0])].push_back(token);
  }
  for (auto& entry : by_first_byte_) {
    std::stable_sort(entry.second.begin(), entry.second.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  }
}

std::vector<SpecialTokenMatcher::Fragment> SpecialTokenMatcher::split(const std::string& text) const {
  std::vector<Fragment> out;
  size_t plain_start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const auto it = by_first_byte_.find(static_cast<unsigned char>(text[pos]));
    const std::pair<std::string, int64_t>* hit = nullptr;
    if (it != by_first_byte_.end()) {
      for (const auto& candidate : it->second) {
        if (text.compare(pos, candidate.first.size(), candidate.first) == 0) {
          hit = &candidate;
          break;
        }
      }
    }
    if (hit == nullptr) {
      ++pos;
      continue;
    }
    if (pos > plain_start) out.push_back({text.substr(plain_start, pos - plain_start), -1});
    out.push_back({std::string(), hit->second});
    pos += hit->first.size();
    plain_start = pos;
  }
  if (plain_start < text.size()) out.push_back({text.substr(plain_start), -1});
  return out;
}

}  // namespace abq::tokenize
