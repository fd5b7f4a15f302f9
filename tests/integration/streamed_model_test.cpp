// Streamed models (model.streamed: true) against resident ones on a tiny sharded BF16 checkpoint
// written here from a seeded random model. Expected values: the resident path
// (weights_from_safetensors, itself checked against HF transformers in tests/unit/parity) and the
// in-memory model the checkpoint was written from; for RTN, the resident RTN run; resident page
// counts from the kernel's accounting (/proc/self/smaps "Rss:" of the shard mappings).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "experiments/runner/load_experiment.h"
#include "framework/core/error.h"
#include "framework/io/hf_config.h"
#include "framework/methods/corrections/smoothquant.h"
#include "framework/model/llama_model.h"
#include "framework/pipeline/checkpoint_loader.h"
#include "framework/pipeline/model_loader.h"
#include "framework/pipeline/quantize_model.h"
#include "tests/unit/io/gguf_writer.h"

namespace {

namespace fs = std::filesystem;
using namespace abq;

const std::string kFixture = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/experiments/tiny_pipeline.yaml";
const char* const kShard1 = "model-00001-of-00002.safetensors";
const char* const kShard2 = "model-00002-of-00002.safetensors";

// V = 258 fits the byte tokenizer; C, F large enough that one block spans many pages (320 KiB).
model::LlamaConfig tiny_config() {
  model::LlamaConfig c;
  c.vocab_size = 258;
  c.hidden_size = 128;
  c.intermediate_size = 256;
  c.num_layers = 3;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.max_position = 256;
  c.rms_eps = 1e-5;
  return c;
}
// One block in BF16: q, o [128, 128]; k, v [64, 128] (GQA); gate, up, down 128 x 256; two norms.
constexpr int64_t kBlockBytes = 2 * (2 * 128 * 128 + 2 * 64 * 128 + 3 * 128 * 256 + 2 * 128);

// The seeded random model rounded to BF16 (what the checkpoint stores), computing in float32.
model::LlamaModel reference_model() {
  auto m = model::make_random_model(tiny_config(), 11, torch::kBFloat16);
  m.to(torch::kCPU, torch::kFloat32);
  return m;
}

io::testing::SafetensorsEntry bf16_entry(const std::string& name, const torch::Tensor& t) {
  auto b = t.to(torch::kBFloat16).contiguous();
  std::string shape = "[";
  for (int64_t i = 0; i < b.dim(); ++i) shape += (i ? ", " : "") + std::to_string(b.size(i));
  const auto* p = static_cast<const uint8_t*>(b.data_ptr());
  return {name, "BF16", shape + "]", std::vector<uint8_t>(p, p + b.numel() * 2)};
}

std::vector<io::testing::SafetensorsEntry> block_entries(const model::LlamaWeights& w, int64_t layer) {
  const auto& b = w.layers[size_t(layer)];
  const std::string p = "model.layers." + std::to_string(layer) + ".";
  return {bf16_entry(p + "input_layernorm.weight", b.input_norm),
          bf16_entry(p + "post_attention_layernorm.weight", b.post_attention_norm),
          bf16_entry(p + "self_attn.q_proj.weight", b.q_proj.weight),
          bf16_entry(p + "self_attn.k_proj.weight", b.k_proj.weight),
          bf16_entry(p + "self_attn.v_proj.weight", b.v_proj.weight),
          bf16_entry(p + "self_attn.o_proj.weight", b.o_proj.weight),
          bf16_entry(p + "mlp.gate_proj.weight", b.gate_proj.weight),
          bf16_entry(p + "mlp.up_proj.weight", b.up_proj.weight),
          bf16_entry(p + "mlp.down_proj.weight", b.down_proj.weight)};
}

// Shard 1: embeddings and layers 0, 1; shard 2: layer 2, final norm, lm_head. Plus index and config.
std::string write_checkpoint(const model::LlamaModel& m) {
  const std::string dir = ::testing::TempDir() + "abq_streamed_" + std::to_string(::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto& w = m.weights();
  std::vector<io::testing::SafetensorsEntry> one{bf16_entry("model.embed_tokens.weight", w.embed_tokens)};
  std::vector<io::testing::SafetensorsEntry> two = block_entries(w, 2);
  for (int64_t layer : {0, 1})
    for (auto& e : block_entries(w, layer)) one.push_back(e);
  two.push_back(bf16_entry("model.norm.weight", w.norm));
  two.push_back(bf16_entry("lm_head.weight", w.lm_head));
  std::string map;
  for (const auto& [entries, file] : {std::pair{&one, kShard1}, std::pair{&two, kShard2}}) {
    for (const auto& e : *entries) map += std::string(map.empty() ? "" : ",") + "\"" + e.name + "\":\"" + file + "\"";
    io::testing::write_file(dir + "/" + file, io::testing::safetensors_bytes(*entries));
  }
  io::testing::write_text(dir + "/model.safetensors.index.json", "{\"weight_map\":{" + map + "}}");
  io::testing::write_text(dir + "/config.json",
                          "{\"model_type\":\"llama\",\"vocab_size\":258,\"hidden_size\":128,\"intermediate_size\":256,"
                          "\"num_hidden_layers\":3,\"num_attention_heads\":4,\"num_key_value_heads\":2,"
                          "\"max_position_embeddings\":256,\"rms_norm_eps\":1e-05,\"rope_theta\":10000.0,"
                          "\"tie_word_embeddings\":false}");
  return dir;
}

model::LlamaModel streamed_model(const std::string& dir) {
  auto config = io::llama_config_from_hf(dir + "/config.json");
  auto s = pipeline::streamed_weights_from_safetensors(dir, config, torch::kFloat32);
  return model::LlamaModel(config, std::move(s.resident), std::move(s.blocks));
}

// The fixture's first run on the checkpoint; `forced` assignments come last and win.
pipeline::ExperimentSpec spec_for(const std::string& dir, bool streamed, const std::vector<std::string>& forced = {}) {
  std::vector<std::string> all = {"model.source=hf", "model.path=" + dir, "tokenizer.type=byte",
                                  std::string("model.streamed=") + (streamed ? "true" : "false")};
  all.insert(all.end(), forced.begin(), forced.end());
  return runner::load_experiment(kFixture, {}, /*merge_duplicate_runs=*/true, all).front();
}

// [start, end) of this process's one mapping of `file` (/proc/self/maps).
std::pair<uintptr_t, uintptr_t> mapping_of(const std::string& file) {
  const std::string target = fs::canonical(file).string();
  std::ifstream maps("/proc/self/maps");
  std::pair<uintptr_t, uintptr_t> found{0, 0};
  int count = 0;
  for (std::string line; std::getline(maps, line);) {
    if (line.size() < target.size() || line.compare(line.size() - target.size(), target.size(), target) != 0) continue;
    char dash = 0;
    std::istringstream(line) >> std::hex >> found.first >> dash >> found.second;
    ++count;
  }
  EXPECT_EQ(count, 1) << "mappings of " << target;
  return found;
}

// Pages lying wholly inside [begin, end) that are present in this process's page tables
// (/proc/self/pagemap, bit 63 of each page's entry): what the kernel counts in RSS for them.
int64_t present_pages(uintptr_t begin, uintptr_t end) {
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);  // pread: the proc file has no size to seek in
  EXPECT_GE(fd, 0) << "cannot open /proc/self/pagemap";
  int64_t present = 0;
  for (uintptr_t p = (begin + page - 1) / page; fd >= 0 && p < end / page; ++p) {
    uint64_t entry = 0;
    EXPECT_EQ(::pread(fd, &entry, sizeof(entry), static_cast<off_t>(p * sizeof(entry))), ssize_t(sizeof(entry)));
    present += (entry >> 63) & 1;
  }
  if (fd >= 0) ::close(fd);
  return present;
}

// Byte range [begin, end) of decoder block `k` of a shard written by write_checkpoint: after the
// 8-byte length, the header, and `skip` bytes of tensors stored before the first block.
std::pair<uint64_t, uint64_t> block_range(const std::string& shard, int64_t skip, int64_t k) {
  std::ifstream in(shard, std::ios::binary);
  uint64_t header = 0;
  in.read(reinterpret_cast<char*>(&header), 8);  // little-endian host
  const uint64_t begin = 8 + header + uint64_t(skip) + uint64_t(k * kBlockBytes);
  return {begin, begin + uint64_t(kBlockBytes)};
}

torch::Tensor sample_tokens() {
  auto gen = at::detail::createCPUGenerator(5);
  return torch::randint(0, 258, {2, 24}, gen, torch::kLong);
}

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.message();
  }
  return "<no error>";
}

TEST(StreamedModel, LogitsEqualResidentAndTheWrittenModel) {
  torch::NoGradGuard no_grad;
  const auto reference = reference_model();
  const std::string dir = write_checkpoint(reference);
  auto config = io::llama_config_from_hf(dir + "/config.json");
  model::LlamaModel resident(config, pipeline::weights_from_safetensors(dir, config, torch::kFloat32));
  const auto streamed = streamed_model(dir);
  ASSERT_TRUE(streamed.streamed());
  EXPECT_FALSE(resident.streamed());
  EXPECT_TRUE(streamed.weights().layers.empty());
  const auto tokens = sample_tokens();
  const auto expected = reference.forward(tokens);
  EXPECT_TRUE(torch::equal(resident.forward(tokens), expected));
  EXPECT_TRUE(torch::equal(streamed.forward(tokens), expected));
  EXPECT_TRUE(torch::equal(streamed.forward(tokens), expected));  // blocks re-read after release

  // Through the pipeline, as `model: {source: hf, streamed: true}`.
  auto loaded = pipeline::load_model(spec_for(dir, true));
  EXPECT_TRUE(loaded.model->streamed());
  EXPECT_EQ(loaded.weights_note, "HF safetensors (streamed)");
  EXPECT_TRUE(torch::equal(loaded.model->forward(tokens), expected));
}

TEST(StreamedModel, ActivationHooksRunOnStreamedBlocks) {
  torch::NoGradGuard no_grad;
  const auto reference = reference_model();
  auto streamed = streamed_model(write_checkpoint(reference));
  auto resident = reference_model();
  const auto tokens = sample_tokens();
  int calls = 0;
  auto halve = [&calls](const torch::Tensor& x) {
    ++calls;
    return x * 0.5;
  };
  for (auto* m : {&streamed, &resident}) m->set_activation_hook("layers.1.mlp.down_proj.input", halve);
  EXPECT_TRUE(torch::equal(streamed.forward(tokens), resident.forward(tokens)));
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(torch::equal(streamed.forward(tokens), reference.forward(tokens)));
}

TEST(StreamedModel, ReleaseGivesBackTheBlockPages) {
  torch::NoGradGuard no_grad;
  const std::string dir = write_checkpoint(reference_model());
  const auto streamed = streamed_model(dir);
  const std::string shard1 = dir + "/" + kShard1, shard2 = dir + "/" + kShard2;
  const auto map1 = mapping_of(shard1), map2 = mapping_of(shard2);
  const auto block0 = block_range(shard1, 2 * 258 * 128, 0);  // after the BF16 embeddings [258, 128]
  {
    const auto block = streamed.materialize_block(0);
    // Every page wholly inside the block: at least kBlockBytes / page - 1 of them.
    EXPECT_GE(present_pages(map1.first + block0.first, map1.first + block0.second),
              kBlockBytes / ::sysconf(_SC_PAGESIZE) - 1);
  }
  streamed.release_block(0);
  EXPECT_EQ(present_pages(map1.first, map1.second), 0);
  streamed.forward(sample_tokens());  // all three blocks, over both shards
  EXPECT_EQ(present_pages(map1.first, map1.second), 0);
  EXPECT_EQ(present_pages(map2.first, map2.second), 0);
}

// RTN runs on each block as it is loaded; the result equals RTN on the resident model.
TEST(StreamedModel, RtnEqualsResidentRtn) {
  torch::NoGradGuard no_grad;
  const auto reference = reference_model();
  const std::string dir = write_checkpoint(reference);
  const std::vector<std::string> rtn = {"quant.weights.bits=4", "quant.weights.granularity=per_group",
                                        "quant.weights.group_size=32", "quant.activations.bits=16"};
  auto resident_spec = spec_for(dir, false, rtn);
  auto streamed_spec = spec_for(dir, true, rtn);
  auto resident = pipeline::load_model(resident_spec);
  auto streamed = pipeline::load_model(streamed_spec);
  const auto resident_report = pipeline::quantize_model(*resident.model, resident_spec.quant, {});
  const auto streamed_report = pipeline::quantize_model(*streamed.model, streamed_spec.quant, {});
  const auto tokens = sample_tokens();
  const auto logits = streamed.model->forward(tokens);
  EXPECT_TRUE(torch::equal(logits, resident.model->forward(tokens)));
  EXPECT_FALSE(torch::equal(logits, reference.forward(tokens)));  // the weights were quantized
  ASSERT_EQ(streamed_report.sites.size(), resident_report.sites.size());
  ASSERT_EQ(streamed_report.sites.size(), 21u);  // 3 layers x 7 linears
  for (size_t i = 0; i < streamed_report.sites.size(); ++i) {
    EXPECT_EQ(streamed_report.sites[i].site, resident_report.sites[i].site);
    EXPECT_EQ(streamed_report.sites[i].bits, resident_report.sites[i].bits);
  }
}

TEST(StreamedModel, MutatingComponentsRefuseWithTheReason) {
  torch::NoGradGuard no_grad;
  const std::string dir = write_checkpoint(reference_model());
  auto streamed = streamed_model(dir);
  EXPECT_EQ(message_of([&] { streamed.weights(); }), model::kStreamedRefusal);
  EXPECT_EQ(message_of([&] { methods::SmoothQuant().apply(streamed, {sample_tokens().narrow(0, 0, 1)}); }), model::kStreamedRefusal);

  auto spec = spec_for(dir, true, {"quant.corrections=[{type: smoothquant, alpha: 0.5}]"});
  EXPECT_EQ(message_of([&] { pipeline::quantize_model(streamed, spec.quant, {sample_tokens().narrow(0, 0, 1)}); }),
            std::string("correction 'smoothquant': ") + model::kStreamedRefusal);
  auto gptq = spec_for(dir, true, {"quant.weight_quantizer={type: gptq, block_size: 16}"});
  EXPECT_EQ(message_of([&] { pipeline::quantize_model(streamed, gptq.quant, {sample_tokens().narrow(0, 0, 1)}); }),
            model::kStreamedRefusal);

  const std::string gguf = message_of([&] { spec_for(dir, true, {"model.source=gguf"}); });  // every run says it
  EXPECT_NE(gguf.find("model.streamed: true needs model.source: hf (a safetensors checkpoint), got "
                      "model.source: gguf\n"),
            std::string::npos)
      << gguf;
  EXPECT_NE(gguf.find("convert the checkpoint to safetensors or set model.streamed: false"), std::string::npos)
      << gguf;
  auto resident = reference_model();
  EXPECT_EQ(message_of([&] { resident.set_block_transform([](int64_t, model::DecoderBlock&) {}); }),
            "set_block_transform: the model is resident; rewrite its blocks through weights() instead");
}

}  // namespace
