#!/usr/bin/env python3
"""Plots of `abq report` (matplotlib, h5py): reads OUT/runs.json, written by abq report (the runs,
named as the report names them, with the metrics it used, rescored ones included), and the HDF5
stores it names (per-site errors, calibration tables). Writes PNG and PDF into --out:

  ppl_vs_bits_<dataset>   perplexity (log) vs average weight bits with scales, one line per method
  acc_vs_bytes            mean zero-shot accuracy vs whole-model bytes (model_bytes), Pareto front marked
  sqnr_<run>              per-site weight SQNR (dB) heatmap, blocks x linears
  calibration_<run>       block-wise calibration: output / local MSE and learned losses per block

    python3 experiments/report/plots.py --runs OUT/runs.json --out OUT/plots
"""
import argparse
import json
import math
import re
from pathlib import Path

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator  # noqa: E402

LINEARS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
ACCURACY = ("acc",)


def number(text, default=math.nan):
    try:
        return float(text)
    except (TypeError, ValueError):
        return default


def save(fig, out, stem):
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(out / f"{stem}.{ext}", dpi=150)
    plt.close(fig)


def safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def weights_note(runs):
    notes = sorted({r.get("weights", "") for r in runs if r.get("weights")})
    return "; ".join(notes)


def ppl_vs_bits(runs, out):
    datasets = sorted({m["dataset"] for r in runs for m in r["metrics"] if m["metric"] == "ppl"})
    for dataset in datasets:
        series = {}
        for r in runs:
            bits = number(r.get("avg_weight_bits_with_scales"))
            for m in r["metrics"]:
                if m["metric"] == "ppl" and m["dataset"] == dataset and m["value"] and math.isfinite(bits):
                    series.setdefault(r["method"], []).append((bits, m["value"], r["setting"]))
        if not series:
            continue
        fig, ax = plt.subplots(figsize=(7.5, 4.8))
        for method, points in series.items():
            points.sort()
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            ax.plot(xs, ys, marker="o", label=method)
            for x, y, setting in points:
                ax.annotate(setting, (x, y), textcoords="offset points", xytext=(6, 4), fontsize=7)
        log_axis_ticks(ax)
        ax.set_xlabel("average weight bits of the block linears (scales and zero-points counted)")
        ax.set_ylabel(f"perplexity on {dataset} (log scale)")
        model = ", ".join(sorted({r["model"] for r in runs}))
        note = weights_note(runs)
        ax.set_title(f"Perplexity vs weight bits: {model}" + (f"\nweights: {note}" if note else ""), fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(title="method", fontsize=8)
        save(fig, out, f"ppl_vs_bits_{safe(dataset)}")


def log_axis_ticks(ax):
    """Log y with plain numbers ("25", "1500", not 2.5 x 10^1). Within one decade matplotlib puts
    no tick at all, so five geometric ticks are set; wider ranges label 1, 2 and 5 multiples."""
    ax.set_yscale("log")
    lo, hi = ax.get_ylim()
    if hi / lo < 10:
        ax.set_yticks([lo * (hi / lo) ** (k / 4) for k in range(5)])
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.5g}"))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_ylim(lo, hi)
        return
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:e}"[0] in "25" else ""))


def pareto(points):
    """Indices of points no other point beats on both bytes (lower) and accuracy (higher)."""
    front = []
    for i, (b, a) in enumerate(points):
        if not any((b2 <= b and a2 >= a) and (b2 < b or a2 > a) for b2, a2 in points):
            front.append(i)
    return sorted(front, key=lambda i: points[i][0])


def model_mib(run):
    """Whole-model storage of a run (the model_bytes attribute); stores written before it existed
    give NaN rather than a size that leaves the embeddings out."""
    return number(run.get("model_bytes")) / 2**20


def acc_vs_bytes(runs, out):
    rows = []
    for r in runs:
        accs = [m["value"] for m in r["metrics"] if m["metric"] in ACCURACY and m["value"] is not None]
        size = model_mib(r)
        if accs and math.isfinite(size):
            rows.append((size, 100 * sum(accs) / len(accs), r))
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    markers = "osD^vP*X"
    for k, method in enumerate(sorted({r["method"] for _, _, r in rows})):
        pts = [(b, a) for b, a, r in rows if r["method"] == method]
        # Distinct markers and open faces keep coinciding points of two methods visible.
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], label=method, s=50, marker=markers[k % len(markers)],
                   facecolors="none", edgecolors=f"C{k}", linewidths=1.5)
    front = pareto([(b, a) for b, a, _ in rows])
    ax.plot([rows[i][0] for i in front], [rows[i][1] for i in front], "k--", lw=1, marker="o", ms=12,
            mfc="none", mec="k", label="Pareto front (circled)")
    labelled = set()
    for b, a, r in rows:
        if (round(b, 6), round(a, 6), r["setting"]) in labelled:
            continue  # one label per point, however many methods share it
        labelled.add((round(b, 6), round(a, 6), r["setting"]))
        ax.annotate(r["setting"], (b, a), textcoords="offset points", xytext=(5, 3), fontsize=7)
    ax.set_xlabel("model storage (MiB: quantized linears with scales and zero-points, other tensors fp16)")
    ax.set_ylabel("mean zero-shot accuracy (%, acc)")
    ax.set_title("Accuracy vs model bytes", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, out, "acc_vs_bytes")


def read_table(run, name):
    return run[name][()] if name in run else None


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def sqnr_heatmaps(runs, out):
    for r in runs:
        with h5py.File(r["file"], "r") as f:
            sites = read_table(f["runs"][r["run_id"]], "sites")
        if sites is None or len(sites) == 0:
            continue
        cells = {}
        for row in sites:
            m = re.match(r"layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)\.weight$", text(row["site"]))
            if m and m.group(2) in LINEARS:
                cells[(int(m.group(1)), m.group(2))] = float(row["sqnr_db"])
        if not cells:
            continue
        blocks = max(b for b, _ in cells) + 1
        grid = [[cells.get((b, l), math.nan) for l in LINEARS] for b in range(blocks)]
        fig, ax = plt.subplots(figsize=(6.5, max(2.5, 0.22 * blocks + 1.5)))
        image = ax.imshow(grid, aspect="auto", cmap="viridis", interpolation="nearest")
        ax.set_xticks(range(len(LINEARS)), [l.replace("_proj", "") for l in LINEARS])
        step = max(1, blocks // 15)
        ax.set_yticks(range(0, blocks, step))
        ax.set_xlabel("linear")
        ax.set_ylabel("block")
        ax.set_title(f"Weight SQNR per site: {r['name']} ({r['method']}, {r['setting']})", fontsize=10)
        fig.colorbar(image, ax=ax, label="SQNR (dB)")
        save(fig, out, f"sqnr_{safe(r['name'])}")


def calibration_curves(runs, out):
    for r in runs:
        with h5py.File(r["file"], "r") as f:
            blocks = read_table(f["runs"][r["run_id"]], "calibration_blocks")
        if blocks is None or len(blocks) == 0:
            continue
        fig, ax = plt.subplots(figsize=(7, 4.2))
        x = [int(b) for b in blocks["block"]]
        for column, label in (("output_mse", "block output MSE vs FP"), ("local_mse", "block-local MSE"),
                              ("first_loss", "learned loss, first step"), ("final_loss", "learned loss, last step")):
            ys = [float(v) for v in blocks[column]]
            if any(math.isfinite(v) and v > 0 for v in ys):
                ax.plot(x, ys, marker="o", label=label)
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("decoder block")
        ax.set_ylabel("loss / MSE (log scale)")
        ax.set_title(f"Block-wise calibration: {r['name']} ({r['method']}, {r['setting']})", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        save(fig, out, f"calibration_{safe(r['name'])}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", required=True, help="runs.json written by abq report")
    parser.add_argument("--out", required=True, help="folder for the PNG and PDF files")
    parser.add_argument("--only", default="all", help="comma list: ppl,acc,sqnr,calibration (default all)")
    args = parser.parse_args()
    runs = json.loads(Path(args.runs).read_text())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(",")) if args.only != "all" else {"ppl", "acc", "sqnr", "calibration"}
    if "ppl" in only:
        ppl_vs_bits(runs, out)
    if "acc" in only:
        acc_vs_bytes(runs, out)
    if "sqnr" in only:
        sqnr_heatmaps(runs, out)
    if "calibration" in only:
        calibration_curves(runs, out)


if __name__ == "__main__":
    main()
