#include "framework/methods/learned/learned_options.h"

#include <sstream>

namespace abq::methods {

std::string describe(const LearnedOptions& o) {
  std::ostringstream s;
  s.precision(17);
  s << "epochs " << o.epochs << " batch " << o.batch_size << " wd " << o.weight_decay << " lwc " << o.lwc << " init "
    << o.lwc_init << " lr " << o.lwc_lr << " let " << o.let << " lr " << o.let_lr << " alpha " << o.alpha << " pairs "
    << o.pairs.qkv << o.pairs.out << o.pairs.fc1 << o.pairs.fc2 << o.pairs.qkt << " shifts " << o.shifts << " comp " << o.compensation << " "
    << o.compensation_first << "/" << o.compensation_last << " lr " << o.compensation_lr << " affine "
    << o.affine.ln_matrix << o.affine.out_matrix << o.affine.qk_matrix << " sf " << o.affine.stability_factor
    << " gradual " << o.affine.gradual_mask << " loss " << o.loss.mse << o.loss.aug_mse << o.loss.dlc
    << o.loss.attention_kl << o.loss.double_softmax << " amp " << o.amp << " restarts " << o.max_restarts << " x"
    << o.restart_lr_factor;
  return s.str();
}

}  // namespace abq::methods
