// Experiment variables: a top-level `vars:` map of scalars, referenced as ${name} inside any string
// value of the experiment (model paths, data paths, results files). Paper-reproduction files name
// their checkpoints once and a user points them at local copies with `--set vars.llama_7b=/data/...`.
//
//   vars: {llama_7b: /models/llama-7b-hf, wikitext2: /data/wikitext-2-raw}
//   model: {source: hf, path: "${llama_7b}"}
//
// Substitution runs after includes, overrides and variant expansion, so every layer can set a
// variable. An unknown ${name} is a ConfigError at the value's file:line:col with a did-you-mean;
// `$${` writes a literal "${". Variables do not refer to other variables.
#pragma once

#include "framework/config/document.h"

namespace abq::config {

/// Replaces every ${name} in the string scalars of `document` (outside `vars` itself). Throws
/// abq::ConfigError listing each unknown name, or a `vars` entry that is not a scalar.
void substitute_variables(Document& document);

}  // namespace abq::config
