// abq: the command-line entry point. A table of subcommands (name, one-line help, handler), as
// ninja keeps it; errors are reported as messages, never stack traces, with exit codes
// 0 ok / 1 runtime failure / 2 usage or config error.
#include <boost/program_options/errors.hpp>

#include <cstdio>
#include <cstring>
#include <exception>

#include "experiments/cli/commands.h"
#include "framework/core/error.h"
#include "framework/core/spellcheck.h"

namespace {

struct Subcommand {
  const char* name;
  const char* help;
  int (*handler)(const abq::cli::Args&);
};

const Subcommand kSubcommands[] = {
    {"run", "calibrate, quantize and evaluate every run of an experiment; append to its HDF5 store",
     abq::cli::cmd_run},
    {"allocate", "print each run's bit allocation (plan per site, candidate scores, Pareto curve) without quantizing",
     abq::cli::cmd_allocate},
    {"sweep", "run an experiment's runs in parallel: local worker processes or Slurm job arrays, merged at the end",
     abq::cli::cmd_sweep},
    {"merge", "merge results files (a sweep's task files) into one, refusing conflicting records", abq::cli::cmd_merge},
    {"status", "per-run state of a sweep: its stores and, on Slurm, the queue", abq::cli::cmd_status},
    {"eval", "evaluate a checkpoint with an experiment's evaluators, nothing quantized", abq::cli::cmd_eval},
    {"bench", "resident weight bytes and tokens/s of packed vs simulated execution for each run",
     abq::cli::cmd_bench},
    {"config", "print the fully resolved config of an experiment (includes, defaults, --set applied)",
     abq::cli::cmd_config},
    {"validate", "check experiment files against the schema without running them", abq::cli::cmd_validate},
    {"show", "print a results store as a runs x metrics table", abq::cli::cmd_show},
    {"report", "paper-style tables (LaTeX, Markdown, CSV, HTML) and plots from stored runs; --check gates",
     abq::cli::cmd_report},
    {"describe", "list the registered components, or the options of one (e.g. `abq describe rtn`)",
     abq::cli::cmd_describe},
};

void print_usage(FILE* out) {
  std::fprintf(out,
               "usage: abq <command> [options]\n\n"
               "abq quantizes LLaMA-family models at arbitrary bit widths and evaluates them.\n\n"
               "commands:\n");
  for (const auto& s : kSubcommands) std::fprintf(out, "  %-9s %s\n", s.name, s.help);
  std::fprintf(out, "\nrun `abq <command> --help` for the options of a command.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return abq::cli::kExitUsage;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(stdout);
    return abq::cli::kExitOk;
  }
  if (name == "--version") {
    std::printf("abq %s\n", ABQ_VERSION);
    return abq::cli::kExitOk;
  }
  abq::cli::Args args(argv + 2, argv + argc);
  for (const auto& s : kSubcommands) {
    if (name != s.name) continue;
    try {
      return s.handler(args);
    } catch (const boost::program_options::error& e) {
      std::fprintf(stderr, "abq %s: %s\nrun `abq %s --help` for usage\n", s.name, e.what(), s.name);
      return abq::cli::kExitUsage;
    } catch (const abq::ConfigError& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return abq::cli::kExitUsage;
    } catch (const abq::Error& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return abq::cli::kExitFailure;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "internal error: %s\n", e.what());
      return abq::cli::kExitFailure;
    }
  }
  std::vector<std::string> names;
  for (const auto& s : kSubcommands) names.push_back(s.name);
  std::string hint = abq::closest_match(name, names);
  std::fprintf(stderr, "abq: unknown command '%s'%s\ncommands: %s\n", name.c_str(),
               hint.empty() ? "" : (" (did you mean '" + hint + "'?)").c_str(), abq::join(names).c_str());
  return abq::cli::kExitUsage;
}
