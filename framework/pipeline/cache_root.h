// Where measurements that outlive a run are kept (sensitivity tables of mixed-precision
// allocation): $ABQ_CACHE_DIR, else $XDG_CACHE_HOME/abq, else $HOME/.cache/abq — the folder the
// default model is fetched into (tools/fetch_model.sh). "" when none of them is set.
#pragma once

#include <string>

namespace abq::pipeline {

std::string cache_root();

}  // namespace abq::pipeline
