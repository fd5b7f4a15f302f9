// What a block-wise calibration run reports: one row per quantized weight site, one per block, and
// every fallback taken. The pipeline turns the site rows into the store's `sites` table.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "framework/core/stage_cache.h"
#include "framework/quant/quant_spec.h"

namespace abq::calib {

struct SiteStats {
  std::string site;       // layers.{i}.{linear}.weight (model/'s site table)
  quant::QuantSpec spec;  // the spec it was quantized with
  std::string quantizer;  // the quantizer that produced the baked weight ("rtn" after a fallback)
  double mse = 0;         // mean (W - Ŵ)²
  double sqnr_db = 0;     // 10·log10(ΣW² / Σ(W - Ŵ)²)
  double layer_loss = 0;  // tr(ΔW·H·ΔWᵀ)/2: mean over windows of Σ_tokens ||x·ΔWᵀ||² on its inputs
};

struct BlockStats {
  int64_t block = 0;
  double seconds = 0;        // wall time of the block, Hessians + quantization + stream updates
  double output_mse = 0;     // mean (X_q - X_fp)² at the block's output: error accumulated so far
  double local_mse = NAN;    // mean (block_q(X_q) - block_fp(X_q))²: this block's own error; NaN if not measured
  // Learned calibration only (NaN / 0 otherwise):
  double first_loss = NAN;   // block loss of the first step
  double final_loss = NAN;   // mean block loss over the last epoch
  int64_t restarts = 0;      // restarts after a non-finite loss or parameter
  int64_t skipped_steps = 0; // optimizer steps skipped on a non-finite gradient
};

/// A block that produced non-finite values (or whose quantizer failed numerically) and was redone
/// from its floating-point weights with another quantizer.
struct CalibFallback {
  int64_t block = 0;
  std::string from;    // quantizer that failed, e.g. "gptq"
  std::string to;      // quantizer used instead, "rtn"
  std::string reason;  // e.g. "layers.3.mlp.down_proj.weight: non-finite values in the quantized weight"
};

struct CalibrationReport {
  std::vector<SiteStats> sites;          // in calibration order
  std::vector<BlockStats> blocks;        // one per calibrated block
  std::vector<CalibFallback> fallbacks;  // empty on a clean run
  int64_t resumed_at_block = 0;          // first block calibrated by this call (> 0 after a resume)
  bool completed = false;                // false when CalibOptions::after_block stopped the run early
  // The fp chain's Y_fp passes: hit (every block this call calibrated read it from the stage cache),
  // miss, off (no cache), n/a (the calibrator needs more of the fp pass than Y_fp); their seconds.
  StageUse fp_chain;
};

}  // namespace abq::calib
