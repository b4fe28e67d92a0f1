//! What each argument holds, field by field, as the bounded reader sees it: which fields are
//! read as scalars, token lists, weight matrices or nested objects. A field not listed is skipped
//! unread, so an unknown key costs nothing however large its value.

/// How one named field is read.
#[derive(Clone, Copy)]
pub(super) enum Field {
    Scalar,
    Token,
    Tokens,
    // Only a cell (an `extras` export's argument) has a list of numbers.
    #[cfg_attr(not(feature = "extras"), allow(dead_code))]
    Numbers,
    Weights,
    Config,
    Optimizer,
    Sequences,
    Batch,
    // Only the corpus exports (`extras`) read a corpus text.
    #[cfg_attr(not(feature = "extras"), allow(dead_code))]
    Corpus,
}

pub(super) const CONFIG: &[(&str, Field)] = &[
    ("dModel", Field::Scalar),
    ("nHeads", Field::Scalar),
    ("dFf", Field::Scalar),
    ("layerNorm", Field::Scalar),
    ("activation", Field::Scalar),
    ("context", Field::Scalar),
];

pub(super) const OPTIMIZER: &[(&str, Field)] = &[
    ("step", Field::Scalar),
    ("m", Field::Weights),
    ("v", Field::Weights),
];

pub(super) const STATE: &[(&str, Field)] = &[
    ("vocab", Field::Tokens),
    ("eos", Field::Token),
    ("tokens", Field::Tokens),
    ("config", Field::Config),
    ("weights", Field::Weights),
    ("optimizer", Field::Optimizer),
    ("sequences", Field::Sequences),
    ("heldOut", Field::Sequences),
];

pub(super) const OPTIONS: &[(&str, Field)] = &[
    ("optimizer", Field::Scalar),
    ("learningRate", Field::Scalar),
    ("beta1", Field::Scalar),
    ("beta2", Field::Scalar),
    ("epsilon", Field::Scalar),
    ("batch", Field::Batch),
];

pub(super) const BATCH: &[(&str, Field)] = &[
    ("size", Field::Scalar),
    ("seed", Field::Scalar),
    ("step", Field::Scalar),
];

#[cfg(feature = "extras")]
pub(super) const CELL: &[(&str, Field)] = &[
    ("group", Field::Scalar),
    ("name", Field::Scalar),
    ("index", Field::Numbers),
];

pub(super) const CHANGE: &[(&str, Field)] = &[("vocab", Field::Tokens), ("config", Field::Config)];
