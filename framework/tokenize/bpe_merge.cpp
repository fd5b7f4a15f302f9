#include "framework/tokenize/bpe_merge.h"

#include <queue>

namespace abq::tokenize {

void MergeRanks::add(const std::string& left, const std::string& right, int rank) {
  size_ += ranks_[left].emplace(right, rank).second ? 1 : 0;  // the first occurrence of a pair wins
}

int MergeRanks::rank(const std::string& left, const std::string& right) const {
  const auto outer = ranks_.find(left);
  if (outer == ranks_.end()) return -1;
  const auto inner = outer->second.find(right);
  return inner == outer->second.end() ? -1 : inner->second;
}

std::vector<std::string> bpe_merge(const std::vector<std::string>& symbols, const MergeRanks& ranks) {
  const int n = static_cast<int>(symbols.size());
  if (n < 2) return symbols;
  struct Symbol {
    std::string text;
    int prev;
    int next;
  };
  std::vector<Symbol> sym(n);
  for (int i = 0; i < n; ++i) sym[i] = {symbols[i], i - 1, i + 1 < n ? i + 1 : -1};

  struct Candidate {
    int rank;
    int left;
    int right;
    size_t left_size;
    size_t right_size;
  };
  // Lowest rank first, then leftmost.
  auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(later)> queue(later);
  auto push = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const int r = ranks.rank(sym[left].text, sym[right].text);
    if (r >= 0) queue.push({r, left, right, sym[left].text.size(), sym[right].text.size()});
  };
  for (int i = 0; i + 1 < n; ++i) push(i, i + 1);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& left = sym[c.left];
    Symbol& right = sym[c.right];
    // Stale entry: a neighbour merged since it was queued (symbols only grow, so sizes tell).
    if (left.text.empty() || right.text.empty() || left.next != c.right || left.text.size() != c.left_size ||
        right.text.size() != c.right_size) {
      continue;
    }
    left.text += right.text;
    right.text.clear();
    left.next = right.next;
    if (right.next >= 0) sym[right.next].prev = c.left;
    push(left.prev, c.left);
    push(c.left, left.next);
  }

  std::vector<std::string> out;
  for (int i = 0; i >= 0; i = sym[i].next) out.push_back(std::move(sym[i].text));
  return out;
}

}  // namespace abq::tokenize
