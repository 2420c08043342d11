//! A small learned text classifier for the in-tray (Posteingang): it learns
//! from items staff have already routed where the next one probably goes.
//!
//! Plain Rust, no ML crate, no I/O, fully deterministic:
//! 1. [`tokenize`]: a German tokenizer (lowercase, words of letters and
//!    digits with umlauts and ß as letters, stopwords out, light suffix
//!    stripping).
//! 2. TF-IDF: sublinear term frequency `1 + ln(tf)`, smoothed inverse
//!    document frequency `ln((1 + n) / (1 + df)) + 1`, each document vector
//!    L2-normalised; the vocabulary keeps the terms in most documents (at most
//!    [`MAX_VOCABULARY`] and at most [`MAX_WEIGHTS`] weights in all).
//! 3. Multinomial logistic regression (softmax) trained by stochastic gradient
//!    descent with L2 regularisation for a fixed number of epochs, in an order
//!    drawn from a fixed seed.
//!
//! Labels are opaque strings: the caller decides whether a label is an org
//! unit's id, a file-plan code or anything else.
//!
//! ## Cost
//! With `N` samples, `T` tokens in all, `z` distinct terms per document
//! (on average), `L` labels and `E` = [`EPOCHS`]:
//! tokenizing and counting is `O(T log T)`, training `O(E · N · z · L)` time
//! and `O(V · L)` memory for `V` vocabulary terms; a prediction is
//! `O(t log V + z · L)` for a text of `t` tokens. Measured in a release build
//! (`timing_2000_documents`): 2,000 letters of ~300 words train in 0.7 s with
//! 8 labels and 1.6 s with 50 labels (then ~8 MB of JSON, ~8 bytes a weight).
//!
//! ## Determinism
//! The same samples (in any order) give the same model, bit for bit, on the
//! same platform: samples are sorted first, all sums run in a fixed order and
//! the training order comes from a fixed seed. Weights are rounded to 1e-4
//! and the IDF to 1e-6 so the stored JSON stays compact.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Fewest samples [`train`] accepts.
pub const MIN_SAMPLES: usize = 10;
/// Most labels a model distinguishes.
pub const MAX_LABELS: usize = 500;
/// Longest label (characters).
pub const MAX_LABEL_CHARS: usize = 200;
/// Most vocabulary terms a model keeps.
pub const MAX_VOCABULARY: usize = 20_000;
/// Most weights (vocabulary terms × labels) a model keeps: with many labels
/// the vocabulary shrinks, so a stored model stays below ~10 MB of JSON.
pub const MAX_WEIGHTS: usize = 1_000_000;
/// Tokens read from one document; the rest of a very long text is ignored.
pub const MAX_TOKENS_PER_TEXT: usize = 20_000;
/// Longest token kept (characters); longer runs are usually noise.
pub const MAX_TOKEN_CHARS: usize = 40;
/// Passes over the training samples.
pub const EPOCHS: usize = 20;

/// L2 regularisation strength (per sample).
const LAMBDA: f64 = 1e-4;
/// Initial learning rate; it decays as `ETA0 / (1 + ETA0 · LAMBDA · t)`.
const ETA0: f64 = 0.5;
/// Seed of the training order.
const SEED: u64 = 0x5241_5448_4155_5321; // "RATHAUS!"
/// Version of the stored model format.
const FORMAT: u32 = 1;

/// One labelled document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample<'a> {
    /// A stable id (for example the document's uuid): [`evaluate`] splits by
    /// its hash, so a document always lands in the same part.
    pub key: &'a str,
    /// The extracted text (subject and body).
    pub text: &'a str,
    /// Where it went (opaque to the classifier).
    pub label: &'a str,
}

/// A label with its probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub label: String,
    /// 0 to 1; the probabilities of one prediction sum to 1.
    pub probability: f64,
}

/// How one label fared in an [`Evaluation`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelScore {
    pub label: String,
    /// Held-out samples with this label.
    pub tested: usize,
    /// Of those, how many were predicted as this label.
    pub correct: usize,
}

/// The result of training on one part of the samples and predicting the
/// other (held-out) part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub trained_on: usize,
    pub tested_on: usize,
    /// Held-out samples whose most probable label was right.
    pub correct: usize,
    /// `correct / tested_on`.
    pub accuracy: f64,
    /// Per label of the held-out part, sorted by label.
    pub per_label: Vec<LabelScore>,
    /// Accuracy of always answering the most frequent label of the held-out
    /// part: what a useful model must clearly beat.
    pub baseline_accuracy: f64,
}

/// Why a model cannot be trained or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClassifierError {
    #[error(
        "zu wenige Beispiele: {found}, mindestens {MIN_SAMPLES} (too few samples: {found}, at least {MIN_SAMPLES})"
    )]
    TooFewSamples { found: usize },
    #[error("mindestens zwei verschiedene Ziele nötig (at least two labels needed)")]
    TooFewLabels,
    #[error(
        "höchstens {MAX_LABELS} Ziele, gefunden {found} (at most {MAX_LABELS} labels, found {found})"
    )]
    TooManyLabels { found: usize },
    #[error(
        "Ziel leer oder länger als {MAX_LABEL_CHARS} Zeichen (label empty or longer than {MAX_LABEL_CHARS} characters)"
    )]
    InvalidLabel,
    #[error("Testanteil: 1 bis 90 Prozent (holdout: 1 to 90 percent)")]
    Holdout,
    #[error("kein Beispiel im Testanteil (no sample in the held-out part)")]
    EmptyHoldout,
}

impl ClassifierError {
    /// Stable message code for the web layer.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooFewSamples { .. } => "classifier.too_few_samples",
            Self::TooFewLabels => "classifier.too_few_labels",
            Self::TooManyLabels { .. } => "classifier.too_many_labels",
            Self::InvalidLabel => "classifier.invalid_label",
            Self::Holdout => "classifier.holdout",
            Self::EmptyHoldout => "classifier.empty_holdout",
        }
    }
}

// ---------------------------------------------------------------------------
// Tokenizer

/// Splits a text into terms: lowercase runs of letters and digits (umlauts
/// and ß are letters; a decomposed `u` + U+0308 becomes `ü`; combining accents
/// and soft hyphens do not split a word), without tokens shorter than two
/// characters or longer than [`MAX_TOKEN_CHARS`], pure numbers and German
/// stopwords; words longer than five characters lose one inflection ending
/// (`-en`, `-er`, `-es`, `-e`, `-n`, `-s`). At most [`MAX_TOKENS_PER_TEXT`]
/// terms.
pub fn tokenize(text: &str) -> Vec<String> {
    fn emit(word: &mut String, out: &mut Vec<String>) {
        if !word.is_empty() {
            if out.len() < MAX_TOKENS_PER_TEXT
                && let Some(t) = term(word)
            {
                out.push(t);
            }
            word.clear();
        }
    }
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else if c == '\u{308}' && matches!(word.chars().last(), Some('a' | 'o' | 'u')) {
            let umlaut = match word.pop() {
                Some('a') => 'ä',
                Some('o') => 'ö',
                _ => 'ü',
            };
            word.push(umlaut);
        } else if matches!(c, '\u{300}'..='\u{36f}' | '\u{ad}') && !word.is_empty() {
            // A combining accent or a soft hyphen inside a word.
        } else {
            emit(&mut word, &mut out);
            if out.len() >= MAX_TOKENS_PER_TEXT {
                return out;
            }
        }
    }
    emit(&mut word, &mut out);
    out
}

/// A lowercase word as a term, or `None` when it carries no meaning.
fn term(word: &str) -> Option<String> {
    let chars = word.chars().count();
    if !(2..=MAX_TOKEN_CHARS).contains(&chars)
        || word.chars().all(char::is_numeric)
        || is_stopword(word)
    {
        return None;
    }
    if chars > 5 {
        for suffix in ["en", "er", "es", "e", "n", "s"] {
            if let Some(stem) = word.strip_suffix(suffix) {
                return Some(stem.to_string());
            }
        }
    }
    Some(word.to_string())
}

/// German function words and letter boilerplate (lowercase).
fn is_stopword(w: &str) -> bool {
    matches!(
        w,
        "ab" | "aber"
            | "alle"
            | "allem"
            | "allen"
            | "aller"
            | "alles"
            | "als"
            | "also"
            | "am"
            | "an"
            | "anbei"
            | "auch"
            | "auf"
            | "aus"
            | "bei"
            | "beim"
            | "bin"
            | "bis"
            | "bitte"
            | "bzw"
            | "da"
            | "damen"
            | "damit"
            | "dank"
            | "danke"
            | "dann"
            | "das"
            | "dass"
            | "daß"
            | "dem"
            | "den"
            | "denn"
            | "der"
            | "des"
            | "die"
            | "dies"
            | "diese"
            | "diesem"
            | "diesen"
            | "dieser"
            | "dieses"
            | "doch"
            | "dort"
            | "du"
            | "durch"
            | "ein"
            | "eine"
            | "einem"
            | "einen"
            | "einer"
            | "eines"
            | "er"
            | "es"
            | "etc"
            | "etwas"
            | "euch"
            | "für"
            | "freundlichen"
            | "freundliche"
            | "gegen"
            | "geehrte"
            | "geehrter"
            | "gern"
            | "gerne"
            | "grüße"
            | "grüßen"
            | "grüsse"
            | "grüssen"
            | "gruß"
            | "hallo"
            | "hat"
            | "habe"
            | "haben"
            | "hatte"
            | "hatten"
            | "herr"
            | "herren"
            | "hier"
            | "hiermit"
            | "ich"
            | "ihm"
            | "ihn"
            | "ihnen"
            | "ihr"
            | "ihre"
            | "ihrem"
            | "ihren"
            | "ihrer"
            | "ihres"
            | "im"
            | "in"
            | "ins"
            | "ist"
            | "ja"
            | "jedoch"
            | "kann"
            | "kein"
            | "keine"
            | "können"
            | "könnten"
            | "man"
            | "mein"
            | "meine"
            | "meinem"
            | "meinen"
            | "meiner"
            | "mfg"
            | "mich"
            | "mir"
            | "mit"
            | "möchte"
            | "möchten"
            | "muss"
            | "müssen"
            | "nach"
            | "nein"
            | "nicht"
            | "noch"
            | "nun"
            | "nur"
            | "ob"
            | "oder"
            | "ohne"
            | "schon"
            | "sehr"
            | "sein"
            | "seine"
            | "seit"
            | "sich"
            | "sie"
            | "sind"
            | "so"
            | "soll"
            | "sollte"
            | "sowie"
            | "um"
            | "und"
            | "uns"
            | "unser"
            | "unsere"
            | "unter"
            | "usw"
            | "viele"
            | "vielen"
            | "vom"
            | "von"
            | "vor"
            | "war"
            | "waren"
            | "was"
            | "weil"
            | "wenn"
            | "wer"
            | "werde"
            | "werden"
            | "wie"
            | "wir"
            | "wird"
            | "wo"
            | "wurde"
            | "wurden"
            | "würde"
            | "würden"
            | "zu"
            | "zum"
            | "zur"
            | "über"
    )
}

// ---------------------------------------------------------------------------
// Model

/// A trained classifier. Stored as JSON (`serde_json::to_string`); loading
/// checks the shape, so a loaded model never panics in [`Model::predict`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StoredModel")]
pub struct Model {
    format: u32,
    /// Sorted, unique.
    labels: Vec<String>,
    /// One per label.
    bias: Vec<f64>,
    /// The vocabulary, sorted and unique (looked up by binary search).
    terms: Vec<String>,
    /// One per term.
    idf: Vec<f64>,
    /// `weights[term * labels.len() + label]`.
    weights: Vec<f64>,
    /// Samples the model learned from.
    trained_on: usize,
}

/// The stored form of a [`Model`], checked before it becomes one.
#[derive(Deserialize)]
struct StoredModel {
    format: u32,
    labels: Vec<String>,
    bias: Vec<f64>,
    terms: Vec<String>,
    idf: Vec<f64>,
    weights: Vec<f64>,
    trained_on: usize,
}

impl TryFrom<StoredModel> for Model {
    type Error = String;

    fn try_from(m: StoredModel) -> Result<Self, String> {
        let labels = m.labels.len();
        let terms = m.terms.len();
        let shape_ok = m.format == FORMAT
            && (2..=MAX_LABELS).contains(&labels)
            && terms <= MAX_VOCABULARY
            && m.bias.len() == labels
            && m.idf.len() == terms
            && terms.checked_mul(labels) == Some(m.weights.len())
            && m.labels.windows(2).all(|w| w[0] < w[1])
            && m.terms.windows(2).all(|w| w[0] < w[1]);
        let finite = m
            .bias
            .iter()
            .chain(&m.idf)
            .chain(&m.weights)
            .all(|x| x.is_finite());
        if !(shape_ok && finite) {
            return Err("invalid classifier model".into());
        }
        Ok(Model {
            format: m.format,
            labels: m.labels,
            bias: m.bias,
            terms: m.terms,
            idf: m.idf,
            weights: m.weights,
            trained_on: m.trained_on,
        })
    }
}

impl Model {
    /// The labels the model knows, sorted.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// How many terms the vocabulary holds.
    pub fn vocabulary_len(&self) -> usize {
        self.terms.len()
    }

    /// How many samples the model was trained on.
    pub fn trained_on(&self) -> usize {
        self.trained_on
    }

    /// Every label with its probability, most probable first (ties by
    /// label). A text without known terms gets the learned prior.
    pub fn predict(&self, text: &str) -> Vec<Prediction> {
        let x = vectorize(&self.terms, &self.idf, &tokenize(text));
        let mut p = self.scores(&x);
        softmax(&mut p);
        let mut out: Vec<Prediction> = self
            .labels
            .iter()
            .zip(p)
            .map(|(label, probability)| Prediction {
                label: label.clone(),
                probability,
            })
            .collect();
        out.sort_by(|a, b| {
            b.probability
                .total_cmp(&a.probability)
                .then_with(|| a.label.cmp(&b.label))
        });
        out
    }

    /// The most probable label.
    fn best(&self, x: &[(u32, f64)]) -> &str {
        let z = self.scores(x);
        let mut best = 0;
        for (k, v) in z.iter().enumerate() {
            if *v > z[best] {
                best = k;
            }
        }
        &self.labels[best]
    }

    /// The logits of a document vector.
    fn scores(&self, x: &[(u32, f64)]) -> Vec<f64> {
        let n = self.labels.len();
        let mut z = self.bias.clone();
        for &(i, v) in x {
            let row = &self.weights[i as usize * n..(i as usize + 1) * n];
            for (zk, w) in z.iter_mut().zip(row) {
                *zk += v * w;
            }
        }
        z
    }
}

/// The TF-IDF vector of a tokenized text over a sorted vocabulary: sorted by
/// term index, L2-normalised, unknown terms left out.
fn vectorize(terms: &[String], idf: &[f64], tokens: &[String]) -> Vec<(u32, f64)> {
    let mut ids: Vec<u32> = tokens
        .iter()
        .filter_map(|t| terms.binary_search(t).ok())
        .map(|i| i as u32)
        .collect();
    ids.sort_unstable();
    let mut x: Vec<(u32, f64)> = Vec::new();
    let mut run = 0usize;
    while run < ids.len() {
        let id = ids[run];
        let count = ids[run..].iter().take_while(|&&j| j == id).count();
        x.push((id, (1.0 + (count as f64).ln()) * idf[id as usize]));
        run += count;
    }
    let norm = x.iter().map(|(_, v)| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        for (_, v) in &mut x {
            *v /= norm;
        }
    }
    x
}

/// Turns logits into probabilities in place (shifted by the maximum, so it
/// cannot overflow).
fn softmax(z: &mut [f64]) {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in z.iter_mut() {
        *v /= sum;
    }
}

/// `x` rounded to a multiple of `1 / scale` (a power of ten): an integer
/// divided by the power of ten is the double nearest to the short decimal,
/// so it prints short in JSON and reads back bit for bit.
fn round_to(x: f64, scale: f64) -> f64 {
    // `+ 0.0` turns -0.0 into 0.0, so the JSON has no "-0.0".
    (x * scale).round() / scale + 0.0
}

/// SplitMix64: a tiny fixed pseudo-random sequence for the training order.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Fisher–Yates shuffle.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Trains a model on all samples.
///
/// Needs at least [`MIN_SAMPLES`] samples, two to [`MAX_LABELS`] distinct
/// labels, each non-empty and at most [`MAX_LABEL_CHARS`] characters. The
/// order of the samples does not matter.
pub fn train(samples: &[Sample]) -> Result<Model, ClassifierError> {
    if samples.len() < MIN_SAMPLES {
        return Err(ClassifierError::TooFewSamples {
            found: samples.len(),
        });
    }
    if samples
        .iter()
        .any(|s| s.label.is_empty() || s.label.chars().count() > MAX_LABEL_CHARS)
    {
        return Err(ClassifierError::InvalidLabel);
    }
    let mut labels: Vec<&str> = samples.iter().map(|s| s.label).collect();
    labels.sort_unstable();
    labels.dedup();
    if labels.len() < 2 {
        return Err(ClassifierError::TooFewLabels);
    }
    if labels.len() > MAX_LABELS {
        return Err(ClassifierError::TooManyLabels {
            found: labels.len(),
        });
    }
    let n_labels = labels.len();

    // The same samples in any order train the same model.
    let mut sorted: Vec<&Sample> = samples.iter().collect();
    sorted.sort_by(|a, b| (a.key, a.label, a.text).cmp(&(b.key, b.label, b.text)));
    let docs: Vec<Vec<String>> = sorted.iter().map(|s| tokenize(s.text)).collect();
    let y: Vec<usize> = sorted
        .iter()
        .map(|s| labels.binary_search(&s.label).unwrap_or(0))
        .collect();

    // Vocabulary: the terms in most documents (ties alphabetically).
    let mut df: HashMap<&str, u32> = HashMap::new();
    for doc in &docs {
        let mut unique: Vec<&str> = doc.iter().map(String::as_str).collect();
        unique.sort_unstable();
        unique.dedup();
        for t in unique {
            *df.entry(t).or_default() += 1;
        }
    }
    let mut by_df: Vec<(&str, u32)> = df.into_iter().collect();
    by_df.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    by_df.truncate(MAX_VOCABULARY.min(MAX_WEIGHTS / n_labels));
    by_df.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let n = docs.len() as f64;
    let terms: Vec<String> = by_df.iter().map(|(t, _)| t.to_string()).collect();
    let idf: Vec<f64> = by_df
        .iter()
        .map(|&(_, d)| round_to(((1.0 + n) / (1.0 + f64::from(d))).ln() + 1.0, 1e6))
        .collect();
    let xs: Vec<Vec<(u32, f64)>> = docs.iter().map(|d| vectorize(&terms, &idf, d)).collect();

    // Bias starts at the log prior, weights at zero.
    let mut counts = vec![0usize; n_labels];
    for &k in &y {
        counts[k] += 1;
    }
    let mut bias: Vec<f64> = counts.iter().map(|&c| (c as f64 / n).ln()).collect();
    let (weights, bias) = sgd(&xs, &y, terms.len(), n_labels, &mut bias);

    Ok(Model {
        format: FORMAT,
        labels: labels.into_iter().map(str::to_string).collect(),
        bias,
        terms,
        idf,
        weights,
        trained_on: samples.len(),
    })
}

/// Softmax regression by SGD with L2 regularisation. The weights are kept
/// as `scale · v` so the decay of all weights per step is one multiplication
/// (the bias is not regularised). Returns the rounded weights and bias.
fn sgd(
    xs: &[Vec<(u32, f64)>],
    y: &[usize],
    n_terms: usize,
    n_labels: usize,
    bias: &mut [f64],
) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0f64; n_terms * n_labels];
    let mut scale = 1.0f64;
    let mut order: Vec<usize> = (0..xs.len()).collect();
    let mut rng = SplitMix(SEED);
    let mut p = vec![0.0f64; n_labels];
    let mut t = 0u64;
    for _ in 0..EPOCHS {
        rng.shuffle(&mut order);
        for &d in &order {
            t += 1;
            let eta = ETA0 / (1.0 + ETA0 * LAMBDA * t as f64);
            let x = &xs[d];
            p.copy_from_slice(bias);
            for &(i, xv) in x {
                let row = &v[i as usize * n_labels..(i as usize + 1) * n_labels];
                for (pk, w) in p.iter_mut().zip(row) {
                    *pk += scale * xv * w;
                }
            }
            softmax(&mut p);
            // Gradient of the cross-entropy: p - onehot(y).
            p[y[d]] -= 1.0;
            scale *= 1.0 - eta * LAMBDA;
            for &(i, xv) in x {
                let step = eta * xv / scale;
                let row = &mut v[i as usize * n_labels..(i as usize + 1) * n_labels];
                for (w, g) in row.iter_mut().zip(&p) {
                    *w -= step * g;
                }
            }
            for (b, g) in bias.iter_mut().zip(&p) {
                *b -= eta * g;
            }
            if scale < 1e-9 {
                for w in &mut v {
                    *w *= scale;
                }
                scale = 1.0;
            }
        }
    }
    let weights = v.iter().map(|w| round_to(w * scale, 1e4)).collect();
    let bias = bias.iter().map(|b| round_to(*b, 1e4)).collect();
    (weights, bias)
}

// ---------------------------------------------------------------------------
// Evaluation

/// Whether a sample belongs to the held-out part: the first eight bytes of
/// SHA-256 of its key, as a number modulo 100, are below the percentage. A
/// larger percentage only adds samples to the held-out part.
fn held_out(key: &str, holdout_percent: u8) -> bool {
    let hash = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    u64::from_be_bytes(first) % 100 < u64::from(holdout_percent)
}

/// Measures the training procedure: trains on the samples outside the
/// held-out part (`holdout_percent`, 1 to 90, chosen by the hash of each
/// key) and predicts the held-out ones. A held-out label the training part
/// lacks counts as wrong.
pub fn evaluate(samples: &[Sample], holdout_percent: u8) -> Result<Evaluation, ClassifierError> {
    if !(1..=90).contains(&holdout_percent) {
        return Err(ClassifierError::Holdout);
    }
    let (test, rest): (Vec<Sample>, Vec<Sample>) = samples
        .iter()
        .partition(|s| held_out(s.key, holdout_percent));
    let model = train(&rest)?;
    if test.is_empty() {
        return Err(ClassifierError::EmptyHoldout);
    }
    let mut per_label: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut correct = 0;
    for s in &test {
        let x = vectorize(&model.terms, &model.idf, &tokenize(s.text));
        let hit = model.best(&x) == s.label;
        let entry = per_label.entry(s.label).or_default();
        entry.0 += 1;
        if hit {
            entry.1 += 1;
            correct += 1;
        }
    }
    let majority = per_label.values().map(|(t, _)| *t).max().unwrap_or(0);
    let tested = test.len();
    Ok(Evaluation {
        trained_on: rest.len(),
        tested_on: tested,
        correct,
        accuracy: correct as f64 / tested as f64,
        per_label: per_label
            .into_iter()
            .map(|(label, (tested, correct))| LabelScore {
                label: label.to_string(),
                tested,
                correct,
            })
            .collect(),
        baseline_accuracy: majority as f64 / tested as f64,
    })
}

/// [`evaluate`] the procedure, then train the model to use on all samples.
pub fn train_and_evaluate(
    samples: &[Sample],
    holdout_percent: u8,
) -> Result<(Model, Evaluation), ClassifierError> {
    let evaluation = evaluate(samples, holdout_percent)?;
    Ok((train(samples)?, evaluation))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::LazyLock;

    /// A deterministic stream of choices for the synthetic letters.
    struct Dice(SplitMix);

    impl Dice {
        fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
            options[(self.0.next() % options.len() as u64) as usize]
        }

        fn below(&mut self, n: u64) -> u64 {
            self.0.next() % n
        }
    }

    const GREETINGS: &[&str] = &[
        "Sehr geehrte Damen und Herren,",
        "Sehr geehrte Damen und Herren,",
        "Guten Tag,",
        "Hallo,",
        "Sehr geehrter Herr Müller,",
        "Sehr geehrte Frau Schmidt,",
    ];
    const CLOSINGS: &[&str] = &[
        "Mit freundlichen Grüßen",
        "Mit freundlichen Grüßen",
        "Freundliche Grüße",
        "Viele Grüße",
        "MfG",
    ];
    const NAMES: &[&str] = &[
        "Anna Becker",
        "Jürgen Wolf",
        "Fatma Yilmaz",
        "Peter Schulze",
        "Claudia Hoffmann",
        "Lukas Neumann",
        "Sabine Krüger",
        "Mehmet Demir",
    ];
    /// Sentences any letter may contain (shared vocabulary across classes).
    const NEUTRAL: &[&str] = &[
        "Für Rückfragen erreichen Sie mich telefonisch unter 0251 123456.",
        "Ich bitte um eine kurze Bestätigung des Eingangs.",
        "Die erforderlichen Unterlagen füge ich diesem Schreiben bei.",
        "Bitte teilen Sie mir mit, ob noch etwas fehlt.",
        "Vielen Dank für Ihre Mühe.",
        "Ich wohne in der Lindenstraße 12, 48143 Musterstadt.",
        "Leider konnte ich Sie telefonisch nicht erreichen.",
        "Bitte senden Sie mir die Antwort per E-Mail.",
        "Ich bin unter der Woche tagsüber erreichbar.",
        "Über eine zügige Bearbeitung würde ich mich freuen.",
    ];
    const GEWERBE: &[&str] = &[
        "Hiermit möchte ich ein Gewerbe anmelden.",
        "Ich mache mich zum 1. Mai mit einem Onlinehandel selbstständig.",
        "Beigefügt finden Sie die Gewerbeanmeldung für meinen Friseursalon.",
        "Die Betriebsstätte befindet sich in der Hauptstraße 5.",
        "Bitte ändern Sie die Tätigkeit meines Gewerbes auf Handel mit Elektronik.",
        "Ich möchte mein Gewerbe zum Monatsende abmelden.",
        "Die Gewerbeummeldung betrifft die Verlegung des Betriebs.",
        "Der Handelsregisterauszug der GmbH liegt bei.",
        "Als Geschäftsführer melde ich die Gesellschaft an.",
        "Für das Gaststättengewerbe benötige ich zusätzlich eine Erlaubnis.",
        "Die Gebühr für die Gewerbeanmeldung habe ich bereits überwiesen.",
        "Mein Nebengewerbe als Fotograf beginnt im Juni.",
    ];
    const HUND: &[&str] = &[
        "Ich möchte meinen Hund zur Hundesteuer anmelden.",
        "Unser Hund ist leider verstorben, bitte melden Sie ihn ab.",
        "Wir haben einen Welpen aus dem Tierheim aufgenommen.",
        "Die Hundesteuermarke ist verloren gegangen, bitte senden Sie eine neue.",
        "Der Hund ist ein Labrador und drei Jahre alt.",
        "Für unseren Blindenhund beantrage ich eine Steuerbefreiung.",
        "Ist mein Hund als Listenhund eingestuft?",
        "Die Hündin wurde gechippt und ist haftpflichtversichert.",
        "Den Steuerbescheid über die Hundesteuer habe ich erhalten.",
        "Wir halten seit März einen zweiten Hund.",
        "Der Hund ist zu meiner Tochter umgezogen.",
        "Bitte erstatten Sie die zu viel gezahlte Hundesteuer.",
    ];
    const PARKEN: &[&str] = &[
        "Ich beantrage einen Bewohnerparkausweis für meinen Pkw.",
        "Mein Parkausweis läuft Ende des Monats ab, bitte verlängern Sie ihn.",
        "Ich bin in die Bewohnerparkzone B gezogen.",
        "Das Kennzeichen meines Fahrzeugs lautet MS AB 123.",
        "Die Zulassungsbescheinigung des Autos liegt in Kopie bei.",
        "Ich habe ein neues Auto und benötige einen geänderten Parkausweis.",
        "Für meinen Firmenwagen beantrage ich eine Parkberechtigung.",
        "Als Schwerbehinderter benötige ich einen Behindertenparkplatz vor dem Haus.",
        "Die Parkgebühr für den Bewohnerparkausweis habe ich bezahlt.",
        "Im Quartier gibt es kaum freie Stellplätze für Anwohner.",
        "Bitte senden Sie den Parkausweis an meine neue Anschrift.",
        "Mein Halteverbot für den Umzug muss verlängert werden.",
    ];
    const WASSER: &[&str] = &[
        "Ich widerspreche dem Bescheid über die Abwassergebühren.",
        "Der Wasserzähler wurde am 3. Januar abgelesen.",
        "Der Zählerstand beträgt 1234 Kubikmeter.",
        "Die Niederschlagswassergebühr ist aus meiner Sicht zu hoch berechnet.",
        "Die versiegelte Fläche auf meinem Grundstück hat sich verringert.",
        "Bitte passen Sie die Abschlagszahlungen für Frischwasser an.",
        "Für die Gartenbewässerung habe ich einen Gartenwasserzähler eingebaut.",
        "Die Schmutzwassergebühr für das Jahr 2025 ist zu hoch.",
        "Unser Kanalanschluss war im Sommer verstopft.",
        "Der Verbrauch ist wegen eines Rohrbruchs gestiegen.",
        "Bitte buchen Sie die Abwassergebühren per Lastschrift ab.",
        "Ich bin Eigentümer des Grundstücks und zahle die Gebühren.",
    ];
    const BAUM: &[&str] = &[
        "Ich beantrage die Fällung einer Eiche auf meinem Grundstück.",
        "Der Baum ist morsch und droht umzustürzen.",
        "Die Baumschutzsatzung schreibt eine Genehmigung vor.",
        "Ein Gutachten zur Standsicherheit der Buche liegt bei.",
        "Die Wurzeln der Kastanie heben die Terrasse an.",
        "Als Ersatzpflanzung schlage ich eine Linde vor.",
        "Der Stammumfang der Birke beträgt 120 Zentimeter.",
        "Ein Sturm hat die Krone der Fichte beschädigt.",
        "Der Ahorn verschattet das ganze Haus.",
        "Ich möchte eine Baumfällgenehmigung für zwei Kiefern.",
        "Die Äste des Nachbarbaums ragen über die Grundstücksgrenze.",
        "Ein Baumpfleger soll die Fällung im Februar vornehmen.",
    ];
    const CLASSES: &[(&str, &[&str])] = &[
        ("gewerbe", GEWERBE),
        ("hundesteuer", HUND),
        ("parken", PARKEN),
        ("wasser", WASSER),
        ("baum", BAUM),
    ];

    /// `per_class` letters per class: greeting, one to four topic sentences
    /// mixed with one to four neutral ones (and in every third letter one
    /// sentence of another class), closing and name.
    fn corpus(per_class: usize, seed: u64) -> Vec<(String, String, String)> {
        let mut dice = Dice(SplitMix(seed));
        let mut out = Vec::new();
        for i in 0..per_class {
            for (label, topic) in CLASSES {
                let mut sentences: Vec<&str> = Vec::new();
                for _ in 0..1 + dice.below(4) {
                    sentences.push(dice.pick(topic));
                }
                let mut others: Vec<&str> = Vec::new();
                for _ in 0..1 + dice.below(4) {
                    others.push(dice.pick(NEUTRAL));
                }
                // Every third letter also mentions another matter in passing.
                if dice.below(3) == 0 {
                    let (_, other) = CLASSES[dice.below(CLASSES.len() as u64) as usize];
                    others.push(dice.pick(other));
                }
                for s in others {
                    let at = dice.below(sentences.len() as u64 + 1) as usize;
                    sentences.insert(at, s);
                }
                let text = format!(
                    "{}\n\n{}\n\n{}\n{}",
                    dice.pick(GREETINGS),
                    sentences.join(" "),
                    dice.pick(CLOSINGS),
                    dice.pick(NAMES)
                );
                out.push((format!("{label}-{i}-{seed}"), text, label.to_string()));
            }
        }
        out
    }

    fn samples(corpus: &[(String, String, String)]) -> Vec<Sample<'_>> {
        corpus
            .iter()
            .map(|(key, text, label)| Sample { key, text, label })
            .collect()
    }

    static CORPUS: LazyLock<Vec<(String, String, String)>> = LazyLock::new(|| corpus(40, 7));
    static MODEL: LazyLock<Model> = LazyLock::new(|| train(&samples(&CORPUS)).unwrap());

    #[test]
    fn tokenizer_keeps_umlauts_and_drops_noise() {
        assert_eq!(
            tokenize("Sehr geehrte Damen und Herren, die GEBÜHREN für 2026 sind zu hoch!"),
            ["gebühr", "hoch"]
        );
        assert_eq!(
            tokenize("Straße Maß Öl x 42 ab3"),
            ["straß", "maß", "öl", "ab3"]
        );
        assert_eq!(
            tokenize("Hundesteuer-Bescheid; Gewerbeanmeldungen"),
            ["hundesteu", "bescheid", "gewerbeanmeldung"]
        );
        // Decomposed umlaut (u + U+0308) and a soft hyphen inside a word.
        assert_eq!(
            tokenize("Gebu\u{308}hren Ge\u{ad}werbe"),
            ["gebühr", "gewerb"]
        );
        assert!(tokenize("").is_empty());
        assert!(tokenize(&"x".repeat(41)).is_empty());
        assert_eq!(tokenize(&"wort ".repeat(30_000)).len(), MAX_TOKENS_PER_TEXT);
    }

    #[test]
    fn learns_the_synthetic_letters() {
        let e = evaluate(&samples(&CORPUS), 25).unwrap();
        assert_eq!(e.trained_on + e.tested_on, 200);
        assert!(e.tested_on >= 30, "{e:?}");
        assert!(e.accuracy >= 0.85, "{e:?}");
        assert!(e.accuracy > e.baseline_accuracy + 0.4, "{e:?}");
        assert_eq!(
            e.per_label.iter().map(|l| l.tested).sum::<usize>(),
            e.tested_on
        );
        assert_eq!(
            e.per_label.iter().map(|l| l.correct).sum::<usize>(),
            e.correct
        );
        assert!(e.per_label.windows(2).all(|w| w[0].label < w[1].label));

        // Letters the model never saw (a different seed).
        let unseen = corpus(10, 99);
        let right = unseen
            .iter()
            .filter(|(_, text, label)| MODEL.predict(text)[0].label == *label)
            .count();
        assert!(right as f64 >= 0.85 * unseen.len() as f64, "{right}");
    }

    #[test]
    fn predicts_an_obvious_letter() {
        let p = MODEL.predict(
            "Sehr geehrte Damen und Herren, seit dem 1. April lebt bei uns ein Hund \
             (Mischling, 2 Jahre). Bitte melden Sie ihn zur Hundesteuer an. \
             Mit freundlichen Grüßen, Erika Mustermann",
        );
        assert_eq!(p[0].label, "hundesteuer");
        assert!(p[0].probability > 0.5, "{p:?}");
        assert_eq!(p.len(), 5);
        assert!(p.windows(2).all(|w| w[0].probability >= w[1].probability));

        let p = MODEL.predict("Die alte Eiche im Garten ist krank, wir möchten sie fällen.");
        assert_eq!(p[0].label, "baum");
        // Boilerplate alone says nothing: every label stays possible.
        let p = MODEL.predict("Sehr geehrte Damen und Herren, mit freundlichen Grüßen");
        assert!(p[0].probability < 0.5, "{p:?}");
    }

    #[test]
    fn train_and_evaluate_returns_the_model_of_all_samples() {
        let s = samples(&CORPUS);
        let (model, e) = train_and_evaluate(&s, 20).unwrap();
        assert_eq!(model.trained_on(), 200);
        assert_eq!(model, *MODEL);
        assert_eq!(e, evaluate(&s, 20).unwrap());
        assert_eq!(
            model.labels(),
            ["baum", "gewerbe", "hundesteuer", "parken", "wasser"]
        );
        assert!(model.vocabulary_len() > 100);
    }

    #[test]
    fn refuses_too_little() {
        let c = corpus(1, 1);
        let s = samples(&c);
        assert_eq!(
            train(&s).unwrap_err(),
            ClassifierError::TooFewSamples { found: 5 }
        );
        let c = corpus(3, 1);
        let one_label: Vec<Sample> = samples(&c)
            .into_iter()
            .map(|s| Sample { label: "x", ..s })
            .collect();
        assert_eq!(
            train(&one_label).unwrap_err(),
            ClassifierError::TooFewLabels
        );
        let empty: Vec<Sample> = samples(&c)
            .into_iter()
            .map(|s| Sample { label: "", ..s })
            .collect();
        assert_eq!(train(&empty).unwrap_err(), ClassifierError::InvalidLabel);
        assert_eq!(
            evaluate(&samples(&c), 0).unwrap_err(),
            ClassifierError::Holdout
        );
        assert_eq!(
            evaluate(&samples(&c), 91).unwrap_err(),
            ClassifierError::Holdout
        );
        // 15 samples, half held out: fewer than ten remain to train on.
        assert!(matches!(
            evaluate(&samples(&c), 50).unwrap_err(),
            ClassifierError::TooFewSamples { .. }
        ));
        assert_eq!(
            ClassifierError::TooFewLabels.code(),
            "classifier.too_few_labels"
        );
    }

    #[test]
    fn the_split_is_stable() {
        for key in ["a", "b", "0190-abc", "ü"] {
            assert_eq!(held_out(key, 30), held_out(key, 30));
            if held_out(key, 30) {
                assert!(held_out(key, 31));
            }
        }
        let share = (0..1000)
            .filter(|i| held_out(&format!("doc-{i}"), 20))
            .count();
        assert!((150..=250).contains(&share), "{share}");
    }

    #[test]
    fn training_is_deterministic_and_order_independent() {
        let s = samples(&CORPUS);
        let a = serde_json::to_string(&train(&s).unwrap()).unwrap();
        let b = serde_json::to_string(&train(&s).unwrap()).unwrap();
        assert_eq!(a, b);
        let mut reversed = s.clone();
        reversed.reverse();
        assert_eq!(
            a,
            serde_json::to_string(&train(&reversed).unwrap()).unwrap()
        );
    }

    #[test]
    fn a_stored_model_loads_and_bad_ones_are_refused() {
        let json = serde_json::to_string(&*MODEL).unwrap();
        let back: Model = serde_json::from_str(&json).unwrap();
        assert_eq!(back, *MODEL);
        assert!(json.len() < 200_000, "{}", json.len());
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["weights"].as_array_mut().unwrap().pop();
        assert!(serde_json::from_value::<Model>(v).is_err());
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["terms"].as_array_mut().unwrap().reverse();
        assert!(serde_json::from_value::<Model>(v).is_err());
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["format"] = 2.into();
        assert!(serde_json::from_value::<Model>(v).is_err());
    }

    /// Times training on 2,000 letters of ~300 words over a vocabulary of
    /// ~30,000 words (so the 20,000-term limit applies). Run with
    /// `cargo test -p rathaus-domain --release -- --ignored --nocapture timing`.
    #[test]
    #[ignore]
    fn timing_2000_documents() {
        let mut rng = SplitMix(3);
        let syllables = [
            "ab", "be", "ka", "lo", "mu", "ne", "ri", "sa", "ta", "ver", "ge", "an", "ung", "keit",
            "hof", "stadt", "bau", "steu", "was", "hund", "park", "gew", "zahl", "amt", "land",
            "feld", "bach", "schul", "wald", "bahn",
        ];
        let vocabulary: Vec<String> = (0..30_000)
            .map(|_| {
                (0..2 + rng.next() % 3)
                    .map(|_| syllables[(rng.next() % syllables.len() as u64) as usize])
                    .collect()
            })
            .collect();
        let labels: Vec<String> = (0..8).map(|i| format!("label-{i}")).collect();
        let docs: Vec<(String, String, String)> = (0..2000)
            .map(|d| {
                let label = d % labels.len();
                let words: Vec<&str> = (0..300)
                    .map(|_| {
                        // Half the words from the label's own region of the vocabulary.
                        let r = rng.next();
                        let i = if r.is_multiple_of(2) {
                            label * 3000 + (r >> 8) as usize % 3000
                        } else {
                            (r >> 8) as usize % vocabulary.len()
                        };
                        vocabulary[i].as_str()
                    })
                    .collect();
                (format!("doc-{d}"), words.join(" "), labels[label].clone())
            })
            .collect();
        let s = samples(&docs);
        let start = std::time::Instant::now();
        let model = train(&s).unwrap();
        let elapsed = start.elapsed();
        let start = std::time::Instant::now();
        let e = evaluate(&s, 20).unwrap();
        let eval_elapsed = start.elapsed();
        let json = serde_json::to_string(&model).unwrap();
        println!(
            "train 2000 docs: {elapsed:?}; evaluate: {eval_elapsed:?}; vocabulary {}; \
             model JSON {} bytes; held-out accuracy {:.3} (baseline {:.3})",
            model.vocabulary_len(),
            json.len(),
            e.accuracy,
            e.baseline_accuracy
        );
    }

    proptest! {
        #[test]
        fn tokenize_and_predict_never_panic(text in "\\PC{0,200}") {
            for t in tokenize(&text) {
                prop_assert!(t.chars().count() >= 2);
                prop_assert!(!t.chars().all(char::is_numeric));
            }
            let p = MODEL.predict(&text);
            prop_assert_eq!(p.len(), 5);
            let sum: f64 = p.iter().map(|p| p.probability).sum();
            prop_assert!((sum - 1.0).abs() < 1e-9, "{}", sum);
            prop_assert!(p.iter().all(|p| (0.0..=1.0).contains(&p.probability)));
        }

        #[test]
        fn mixed_letters_still_sum_to_one(
            picks in proptest::collection::vec((0usize..5, 0usize..12), 0..12),
            noise in "[a-zäöüß ]{0,80}",
        ) {
            let mut text = noise;
            for (c, s) in picks {
                text.push(' ');
                text.push_str(CLASSES[c].1[s]);
            }
            let p = MODEL.predict(&text);
            let sum: f64 = p.iter().map(|p| p.probability).sum();
            prop_assert!((sum - 1.0).abs() < 1e-9, "{}", sum);
        }
    }
}
