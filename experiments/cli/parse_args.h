// Shared Boost.Program_options plumbing for the subcommands: parsing with a positional FILE,
// `--help` printing with defaults shown, and the `--set key.path=value` option.
#pragma once

#include <boost/program_options.hpp>

#include <string>

#include "experiments/cli/commands.h"

namespace abq::cli {

namespace po = boost::program_options;

/// Parses `args`; returns false after printing help when --help was given.
/// `positional` names the option that collects positional arguments ("" for none).
bool parse_args(const std::string& command, const std::string& synopsis, const Args& args,
                po::options_description& options, po::variables_map& values,
                const std::string& positional, int max_positional = 1);

}  // namespace abq::cli
