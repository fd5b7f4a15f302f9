#include "experiments/cli/parse_args.h"

#include <iostream>

namespace abq::cli {

bool parse_args(const std::string& command, const std::string& synopsis, const Args& args,
                po::options_description& options, po::variables_map& values,
                const std::string& positional, int max_positional) {
  options.add_options()("help,h", "print this help");
  po::positional_options_description positionals;
  if (!positional.empty()) positionals.add(positional.c_str(), max_positional);
  po::store(po::command_line_parser(args).options(options).positional(positionals).run(), values);
  if (values.count("help")) {
    std::cout << "usage: abq " << command << " " << synopsis << "\n\n" << options << "\n";
    return false;
  }
  po::notify(values);
  return true;
}

}  // namespace abq::cli
