// C4 (allenai/c4, en) documents as downloaded: JSON lines, one record per document, plain or gzip
// (en/c4-validation.00000-of-00008.json.gz for evaluation, en/c4-train.00000-of-01024.json.gz
// for calibration). GPTQ get_c4_new joins the first documents with " " (python_text.h); get_c4
// samples windows from them (gptq_c4_windows.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace abq::data {

/// The "text" field of the first `max_docs` records (0: all) of a C4 JSON-lines file, plain or
/// gzip (en/c4-validation.00000-of-00008.json.gz as downloaded), in file order.
std::vector<std::string> c4_documents(const std::string& path, int64_t max_docs = 0);

}  // namespace abq::data
