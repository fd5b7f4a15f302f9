// Where measurements that outlive a run are kept: $ABQ_CACHE_DIR, else $XDG_CACHE_HOME/abq, else
// $HOME/.cache/abq — the folder the default model is fetched into (tools/fetch_model.sh). Under it:
// sensitivity/ (mixed-precision allocation tables) and stages/ (framework/core/stage_cache.h:
// calibration windows, activation statistics, the fp block chain). ABQ_CACHE_DIR set to "" or
// "off" turns every cache off.
#pragma once

#include <string>

namespace abq::pipeline {

/// The cache folder, or "" when caching is off or no variable names a folder.
std::string cache_root();

/// The stage cache folder of a run: "" when ABQ_CACHE_DIR is "" or "off"; else `requested` (abq run
/// --stage-cache, a sweep's shared folder) when given; else cache_root()/stages ("" without a root).
std::string stage_cache_dir(const std::string& requested);

}  // namespace abq::pipeline
