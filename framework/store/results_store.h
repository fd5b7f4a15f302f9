// ResultsStore: one HDF5 file holding one record per run (layout in schema.h, reader docs in
// results/README.md). Runs are keyed by run_id, a short hash of the resolved config, which makes
// sweeps resumable: a complete run is skipped, an incomplete (running / failed) one is redone.
//
// Crash safety: every mutation edits an in-memory copy and rewrites the file atomically
// (memory_file.h, atomic_file.h), so a writer killed at any moment, or one whose write fails (a
// full disk), leaves every earlier run intact and its own run either `running` or absent. Each
// file carries a seal (store_seal.h) checked before HDF5 reads it, and a write first checks every
// run, so a damaged store is refused, never extended. Writers in several processes are
// serialised by a lock file; reads take no lock.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "framework/store/schema.h"
#include "framework/store/table.h"

namespace abq::store {

struct RunRecord {
  std::string run_id;
  /// Every run attribute except `status` (name, experiment, config_yaml, config_hash, started,
  /// finished, error, provenance keys ...).
  std::map<std::string, std::string> attributes;
  RunStatus status = RunStatus::running;
  std::vector<MetricRow> metrics;
  std::vector<SiteRow> sites;
  std::vector<TimingRow> timings;
  /// Extra tables under /runs/<run_id>/<name> (e.g. per-example records); names other than
  /// metrics / sites / timings.
  std::map<std::string, Table> tables;
};

/// Whether opening a missing store creates it (writers) or is an error (readers: `abq show`).
enum class OpenMode { create_if_missing, existing };

class ResultsStore {
 public:
  /// Opens `path`; with create_if_missing a missing store is created (with parent directories).
  /// A symbolic link is followed: the lock, the temporary file and the rename all act on the
  /// file it names, so the link stays a link. Throws abq::Error naming the path when the file is
  /// missing (OpenMode::existing; nothing is created), not HDF5, not an abq store, damaged (seal or
  /// structure, see store_seal.h) or has a newer schema_version; such a file is never modified.
  explicit ResultsStore(std::string path, OpenMode mode = OpenMode::create_if_missing);

  /// The path as given (messages use it) and the file it names after following links.
  const std::string& path() const { return path_; }
  const std::string& file_path() const { return file_; }
  /// How long a writer waits for another process's write to finish (default 60 s).
  void set_lock_timeout(double seconds) { lock_timeout_seconds_ = seconds; }
  /// For a caller that is the only process ever running its runs in this store (a sweep's task
  /// writing its own task file: the scheduler runs one instance of it at a time): begin_run takes
  /// over a `running` run begun on another host, whose liveness cannot be checked from here (a
  /// task killed on one node and restarted on another). A run held by a live process on this host
  /// is still refused.
  void set_sole_writer(bool sole) { sole_writer_ = sole; }

  /// nullopt when the store has no run `run_id`.
  std::optional<RunStatus> status(const std::string& run_id) const;

  /// Records a new run with status running, `started` = now (unless `attributes` has one) and the
  /// calling process as its owner (run_owner.h). Replaces a failed run, or a running one whose
  /// owner is dead, with the same id, tables included; throws abq::Error for a complete run and
  /// for a running one held by a live process (or one on another host). `attributes` may not
  /// contain `status` or `owner_*`.
  void begin_run(const std::string& run_id, const std::map<std::string, std::string>& attributes);

  /// Completes a running run: adds record.attributes, writes metrics / sites / timings and
  /// record.tables, removes `error`, sets status complete and `finished` = now (unless given).
  /// record.status is not read. Throws abq::Error when the run was not begun, is not running, or
  /// was begun by another process.
  void finish_run(const RunRecord& record);

  /// Marks a run failed with `error` (bytes that are not UTF-8 escaped as \xNN) and `finished` =
  /// now, creating its group when begin_run never ran. Throws abq::Error for a complete run (a
  /// complete result is never downgraded) and for a running one held by another live process.
  void fail_run(const std::string& run_id, const std::string& error);

  /// Leaves a running run of this process incomplete for another process to resume: it stays
  /// `running`, its owner attributes are removed (so any process on any host may take it over:
  /// a requeued job may start on another node) and `interrupted` = `note` says why. Used when a
  /// job is preempted or reaches its time limit (its calibration checkpoints stay on disk).
  /// Throws abq::Error when the run is not running or is held by another process.
  void release_run(const std::string& run_id, const std::string& note);

  /// Writes whole records as they are (status from RunRecord::status, every attribute, every
  /// table), each replacing the run of its id, in one atomic rewrite (abq merge). `plan` receives
  /// the store's current records, read under the writer lock, and returns the records to write;
  /// when it throws, nothing is written.
  void write_records(const std::function<std::vector<RunRecord>(const std::vector<RunRecord>& current)>& plan);

  /// Writes (or replaces) an extra table of a running run, e.g. per-example records written before
  /// finish_run. Throws abq::Error for a fixed table name or a run that is not running.
  void write_table(const std::string& run_id, const std::string& name, const Table& table);

  /// Run ids in lexicographic order.
  std::vector<std::string> run_ids() const;
  /// Throws abq::Error when there is no such run or its record is malformed.
  RunRecord read_run(const std::string& run_id) const;
  std::vector<RunRecord> read_all() const;

 private:
  std::string path_;
  std::string file_;
  std::string lock_path_;
  double lock_timeout_seconds_ = 60;
  bool sole_writer_ = false;
};

}  // namespace abq::store
