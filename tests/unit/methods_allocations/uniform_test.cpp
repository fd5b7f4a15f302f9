// `uniform` through the registry: each role gets its default spec, nothing else is read.
#include "framework/methods/allocations/uniform.h"

#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/methods/allocations/site_table.h"
#include "framework/methods/registry.h"
#include "framework/model/llama_model.h"
#include "tests/support/tiny_llama_config.h"

namespace abq::methods {
namespace {

DefaultSpecs w4_a8_kv16() {
  DefaultSpecs d;
  d.weights.bits = 4;
  d.weights.granularity = quant::Granularity::per_group;
  d.weights.group_size = 16;
  d.activations.bits = 8;
  d.activations.granularity = quant::Granularity::per_token;
  return d;
}

TEST(UniformAllocation, EverySiteGetsTheDefaultSpecOfItsRole) {
  const auto model = model::make_random_model(test::tiny_llama_config(2, 2), 3);
  const auto sites = allocation_sites(model.config());
  const auto defaults = w4_a8_kv16();
  const std::vector<torch::Tensor> no_calibration;
  const AllocationContext context{sites, defaults, model, no_calibration, nullptr, "", "", {}, nullptr};
  const auto allocation = make_allocation("uniform", YAML::Node(YAML::NodeType::Map));
  EXPECT_EQ(allocation->name(), "uniform");
  const SitePlan plan = allocation->allocate(context);
  ASSERT_EQ(plan.size(), sites.size());
  for (const auto& site : sites) {
    const auto& spec = plan.at(site.name);
    switch (site.role) {
      case SiteRole::weight: EXPECT_EQ(quant::describe(spec, "w"), "w4g16") << site.name; break;
      case SiteRole::activation: EXPECT_EQ(quant::describe(spec, "a"), "a8t") << site.name; break;
      case SiteRole::kv: EXPECT_FALSE(spec.enabled()) << site.name; break;
    }
  }
}

TEST(AllocationRegistry, ListsUniformAndNamesUnknownTypes) {
  EXPECT_EQ(component_names(ComponentKind::allocation), (std::vector<std::string>{"mixed", "uniform"}));
  EXPECT_EQ(component_schema(ComponentKind::allocation).default_type_name(), "uniform");
  try {
    make_allocation("unifrom", YAML::Node(YAML::NodeType::Map));
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'uniform'"), std::string::npos) << e.what();
  }
}

TEST(AllocationContext, SensitivityIsRequiredByNameWhenThereIsNoCalibration) {
  const auto model = model::make_random_model(test::tiny_llama_config(1, 2), 3);
  const auto sites = allocation_sites(model.config());
  const DefaultSpecs defaults;
  const std::vector<torch::Tensor> none;
  const AllocationContext context{sites, defaults, model, none, nullptr, "", "", {}, nullptr};
  try {
    context.require_sensitivity("hessian_ilp");
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("allocation 'hessian_ilp'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("calibration.data"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace abq::methods
