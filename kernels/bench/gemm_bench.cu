// Benchmark of abq_gemm on the LLaMA-7B shapes (spec kernels-hopper.md §7): each call is captured
// 24 times in a CUDA graph that rotates over enough weight copies to exceed 3× a 50 MB L2, replays
// are timed with CUDA events, and the median (p10/p90) per-call time is printed with the achieved
// weight bandwidth, TOPS and the fraction of the roofline model (launch/roofline.h). Outputs are
// checked against the CPU reference for M ≤ 8 before timing (bit-exact for integer paths).
//
//   abq_kernels_bench [--m 1,16,128,2048] [--formats w2a8,w4a16,w2a2,w2*a8] [--path auto|bitplane|...]
//                     [--group 128] [--replays 15] [--calls 24]
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/reference/bitplane_pack.h"
#include "kernels/reference/gemm_reference.h"
#include "kernels/reference/half.h"
#include "kernels/reference/sliced_pack.h"

namespace {

#define BENCH_CUDA(call)                                                                              \
  do {                                                                                               \
    const cudaError_t e_ = (call);                                                                   \
    if (e_ != cudaSuccess) {                                                                         \
      std::fprintf(stderr, "error: %s failed: %s\n", #call, cudaGetErrorString(e_));                 \
      std::exit(1);                                                                                  \
    }                                                                                                \
  } while (0)

struct Format {
  std::string name;
  abq_weight_format w;
  abq_act_format x;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

// "w2*a8", "w4a16", "w3a3": weight bits (with * for the 5-level W2*), activation bits.
Format parse_format(const std::string& s, int group) {
  int wb = 0, ab = 0;
  bool star = s.find('*') != std::string::npos;
  if (std::sscanf(s.c_str(), star ? "w%d*a%d" : "w%da%d", &wb, &ab) != 2) {
    std::fprintf(stderr, "error: format '%s' is not wPaQ (e.g. w4a8, w2*a8, w4a16)\n", s.c_str());
    std::exit(2);
  }
  Format f{s, {star ? 3 : wb, star ? 5 : 0, 0, group}, {ab, 0, 0}};
  return f;
}

abq_path parse_path(const std::string& s) {
  for (abq_path p : {ABQ_PATH_AUTO, ABQ_PATH_BITPLANE, ABQ_PATH_INT8_UNPACK, ABQ_PATH_WEIGHT_ONLY})
    if (s == abq_path_name(p)) return p;
  std::fprintf(stderr, "error: --path '%s': allowed auto, bitplane, int8_unpack, weight_only\n", s.c_str());
  std::exit(2);
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * (v.size() - 1) + 0.5)];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> ms = {1, 16, 128, 2048};
  std::vector<std::string> formats = {"w2a8", "w2*a8", "w4a8", "w4a16", "w2a2", "w8a8"};
  abq_path force = ABQ_PATH_AUTO;
  int group = 128, replays = 15, calls = 24;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--m") {
      ms.clear();
      for (const auto& v : split(value)) ms.push_back(std::atoi(v.c_str()));
    } else if (key == "--formats") {
      formats = split(value);
    } else if (key == "--path") {
      force = parse_path(value);
    } else if (key == "--group") {
      group = std::atoi(value.c_str());
    } else if (key == "--replays") {
      replays = std::atoi(value.c_str());
    } else if (key == "--calls") {
      calls = std::atoi(value.c_str());
    } else {
      std::fprintf(stderr, "error: unknown option '%s'; allowed --m --formats --path --group --replays --calls\n", key.c_str());
      return 2;
    }
  }
  int device = 0;
  cudaDeviceProp prop{};
  BENCH_CUDA(cudaGetDevice(&device));
  BENCH_CUDA(cudaGetDeviceProperties(&prop, device));
  const int sm = prop.major * 10 + prop.minor;
  std::printf("device %s (sm_%d, %d SMs, L2 %d MB)\n", prop.name, sm, prop.multiProcessorCount, prop.l2CacheSize >> 20);
  std::printf("%-7s %-11s %6s %6s %6s %-12s %9s %9s %9s %9s %8s %7s\n", "format", "shape", "M", "N", "K", "path",
              "med_us", "p10_us", "p90_us", "GB/s_w", "TOPS", "%model");

  const int shapes[5][2] = {{4096, 4096}, {11008, 4096}, {4096, 11008}, {12288, 4096}, {22016, 4096}};
  const char* shape_names[5] = {"qkvo", "gate/up", "down", "qkv_fused", "gateup_fused"};
  std::mt19937 rng(1);
  for (const auto& fname : formats) {
    const Format f = parse_format(fname, group);
    for (int s = 0; s < 5; ++s) {
      const int n = shapes[s][0], k = shapes[s][1];
      for (int m : ms) {
        const abq_path path = abq_choose_path(m, n, k, f.w, f.x, sm, force);
        if (path == ABQ_PATH_AUTO) {
          std::printf("%-7s %-11s %6d skipped: %s\n", fname.c_str(), shape_names[s], m, abq_last_error());
          continue;
        }
        // Host operands: random codes, scales, zero-points.
        abq::kernels::reference::WeightCodes w;
        w.fmt = f.w;
        w.n = n;
        w.k = k;
        const int levels = f.w.levels ? f.w.levels : (1 << f.w.bits);
        const int64_t groups = group ? k / group : 1;
        std::uniform_int_distribution<int> wc(0, levels - 1);
        w.codes.resize(int64_t(n) * k);
        for (auto& c : w.codes) c = wc(rng);
        w.scales.assign(n * groups, 0.01f);
        w.zeros.assign(n * groups, levels / 2);
        const std::vector<uint32_t> packed = path == ABQ_PATH_BITPLANE
                                                 ? abq::kernels::reference::pack_bitplanes(w.codes, n, k, f.w.bits)
                                                 : abq::kernels::reference::pack_sliced(w.codes, n, k, f.w.bits);
        const size_t wbytes = packed.size() * 4;
        const int copies = static_cast<int>(std::max<size_t>(1, (150u << 20) / wbytes + 1));
        std::vector<void*> dw(copies);
        for (auto& p : dw) {
          BENCH_CUDA(cudaMalloc(&p, wbytes));
          BENCH_CUDA(cudaMemcpy(p, packed.data(), wbytes, cudaMemcpyHostToDevice));
        }
        float *dws, *dxs;
        int32_t *dwz, *dxz;
        BENCH_CUDA(cudaMalloc(&dws, n * groups * 4));
        BENCH_CUDA(cudaMalloc(&dwz, n * groups * 4));
        BENCH_CUDA(cudaMemcpy(dws, w.scales.data(), n * groups * 4, cudaMemcpyHostToDevice));
        BENCH_CUDA(cudaMemcpy(dwz, w.zeros.data(), n * groups * 4, cudaMemcpyHostToDevice));
        abq::kernels::reference::ActCodes x;
        x.fmt = f.x;
        x.m = m;
        x.k = k;
        std::vector<uint8_t> xbytes;
        if (f.x.bits == 16) {
          std::normal_distribution<float> nd(0, 1);
          x.values.resize(int64_t(m) * k);
          for (auto& v : x.values) v = abq::kernels::reference::half_to_float(abq::kernels::reference::float_to_half(nd(rng)));
          for (float v : x.values) {
            const uint16_t h = abq::kernels::reference::float_to_half(v);
            xbytes.push_back(h & 0xff);
            xbytes.push_back(h >> 8);
          }
        } else {
          std::uniform_int_distribution<int> xc(0, (1 << f.x.bits) - 1);
          x.codes.resize(int64_t(m) * k);
          for (auto& c : x.codes) c = xc(rng);
          x.scales.assign(m, 0.05f);
          x.zeros.assign(m, 1 << (f.x.bits - 1));
          if (path == ABQ_PATH_BITPLANE) {
            const auto planes = abq::kernels::reference::pack_bitplanes(x.codes, m, k, f.x.bits);
            xbytes.assign(reinterpret_cast<const uint8_t*>(planes.data()),
                          reinterpret_cast<const uint8_t*>(planes.data()) + planes.size() * 4);
          } else {
            xbytes = abq::kernels::reference::pack_int8_containers(x.codes);
          }
        }
        void *dx, *dy;
        BENCH_CUDA(cudaMalloc(&dx, xbytes.size()));
        BENCH_CUDA(cudaMemcpy(dx, xbytes.data(), xbytes.size(), cudaMemcpyHostToDevice));
        dxs = nullptr;
        dxz = nullptr;
        if (f.x.bits <= 8) {
          BENCH_CUDA(cudaMalloc(&dxs, m * 4));
          BENCH_CUDA(cudaMalloc(&dxz, m * 4));
          BENCH_CUDA(cudaMemcpy(dxs, x.scales.data(), m * 4, cudaMemcpyHostToDevice));
          BENCH_CUDA(cudaMemcpy(dxz, x.zeros.data(), m * 4, cudaMemcpyHostToDevice));
        }
        BENCH_CUDA(cudaMalloc(&dy, size_t(m) * n * 2));

        cudaStream_t stream;
        BENCH_CUDA(cudaStreamCreate(&stream));
        abq_weights aw{path == ABQ_PATH_BITPLANE ? ABQ_PATH_BITPLANE : ABQ_PATH_INT8_UNPACK, f.w, n, k, dw[0], dws, dwz};
        abq_activations ax{f.x, m, k, dx, dxs, dxz};
        abq_gemm_args args{&aw, &ax, nullptr, dy, ABQ_DTYPE_F16, path, stream};

        // Correctness first (poisoned output), for sizes the CPU reference handles quickly.
        if (m <= 8) {
          BENCH_CUDA(cudaMemset(dy, 0xFF, size_t(m) * n * 2));
          if (abq_gemm(&args) != ABQ_OK) {
            std::fprintf(stderr, "error: %s\n", abq_last_error());
            return 1;
          }
          BENCH_CUDA(cudaStreamSynchronize(stream));
          std::vector<uint16_t> got(size_t(m) * n);
          BENCH_CUDA(cudaMemcpy(got.data(), dy, got.size() * 2, cudaMemcpyDeviceToHost));
          const auto ref = abq::kernels::reference::gemm_reference(w, x, {});
          double err = 0, norm = 0;
          for (size_t i = 0; i < ref.size(); ++i) {
            const double d = abq::kernels::reference::half_to_float(got[i]) - ref[i];
            err += d * d;
            norm += double(ref[i]) * ref[i];
          }
          if (!(err <= 1e-5 * norm)) {
            std::fprintf(stderr, "error: %s %s M=%d: output differs from the reference (nmse %.3g)\n", fname.c_str(),
                         shape_names[s], m, norm > 0 ? err / norm : err);
            return 1;
          }
        }
        for (int i = 0; i < 10; ++i) {  // warm-up
          aw.codes = dw[i % copies];
          if (abq_gemm(&args) != ABQ_OK) {
            std::fprintf(stderr, "error: %s\n", abq_last_error());
            return 1;
          }
        }
        cudaGraph_t graph;
        cudaGraphExec_t exec;
        BENCH_CUDA(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
        for (int i = 0; i < calls; ++i) {
          aw.codes = dw[i % copies];
          if (abq_gemm(&args) != ABQ_OK) {
            std::fprintf(stderr, "error: %s\n", abq_last_error());
            return 1;
          }
        }
        BENCH_CUDA(cudaStreamEndCapture(stream, &graph));
        BENCH_CUDA(cudaGraphInstantiate(&exec, graph, 0));
        BENCH_CUDA(cudaGraphUpload(exec, stream));
        BENCH_CUDA(cudaGraphLaunch(exec, stream));
        cudaEvent_t start, stop;
        BENCH_CUDA(cudaEventCreate(&start));
        BENCH_CUDA(cudaEventCreate(&stop));
        std::vector<double> per_call_us;
        for (int r = 0; r < replays; ++r) {
          BENCH_CUDA(cudaEventRecord(start, stream));
          BENCH_CUDA(cudaGraphLaunch(exec, stream));
          BENCH_CUDA(cudaEventRecord(stop, stream));
          BENCH_CUDA(cudaEventSynchronize(stop));
          float ms_total = 0;
          BENCH_CUDA(cudaEventElapsedTime(&ms_total, start, stop));
          per_call_us.push_back(1000.0 * ms_total / calls);
        }
        const double med = percentile(per_call_us, 0.5);
        const double model = abq_model_time_us(path, m, n, k, f.w, f.x);
        std::printf("%-7s %-11s %6d %6d %6d %-12s %9.2f %9.2f %9.2f %9.0f %8.1f %6.0f%%\n", fname.c_str(),
                    shape_names[s], m, n, k, abq_path_name(path), med, percentile(per_call_us, 0.1),
                    percentile(per_call_us, 0.9), wbytes / (med * 1e3), 2.0 * m * n * k / (med * 1e6),
                    100.0 * model / med);
        BENCH_CUDA(cudaEventDestroy(start));
        BENCH_CUDA(cudaEventDestroy(stop));
        BENCH_CUDA(cudaGraphExecDestroy(exec));
        BENCH_CUDA(cudaGraphDestroy(graph));
        BENCH_CUDA(cudaStreamDestroy(stream));
        for (void* p : dw) BENCH_CUDA(cudaFree(p));
        BENCH_CUDA(cudaFree(dws));
        BENCH_CUDA(cudaFree(dwz));
        BENCH_CUDA(cudaFree(dx));
        BENCH_CUDA(cudaFree(dy));
        if (dxs) BENCH_CUDA(cudaFree(dxs));
        if (dxz) BENCH_CUDA(cudaFree(dxz));
      }
    }
  }
  return 0;
}
