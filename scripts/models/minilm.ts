/**
 * Builds the support-tickets sentence encoder as one ONNX graph: a BERT encoder with exactly the MiniLM-L6
 * architecture (or a tiny variant for tests), attention-masked mean pooling and L2 normalisation — what
 * sentence-transformers' all-MiniLM-L6-v2 computes. Weights are synthetic and seeded, so the bytes are
 * deterministic.
 *
 * Inputs: `input_ids` int64 [batch, seq], `attention_mask` int64 [batch, seq]. Output: `sentence_embedding`
 * float32 [batch, hidden] (384 for `full`), unit length.
 *
 * `{ pooled: false }` builds the same encoder (same weights) the way Hugging Face exports it instead: a third
 * input `token_type_ids` and the per-token output `last_hidden_state` [batch, seq, hidden], pooling left to
 * the caller. The sample's runner accepts both shapes; the tests use this one to check its pooling.
 */
import { GraphBuilder } from "../../runtime/models/onnx-graph-builder.ts";
import { gaussian, normalArray } from "../../runtime/models/prng.ts";

export type MiniLmVariant = "full" | "tiny";

export interface MiniLmConfig {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPositions: number;
  layerNormEps: number;
  seed: number;
}

export const MINILM_CONFIGS: Record<MiniLmVariant, MiniLmConfig> = {
  full: { vocabSize: 30522, hidden: 384, layers: 6, heads: 12, intermediate: 1536, maxPositions: 512, layerNormEps: 1e-12, seed: 20240601 },
  tiny: { vocabSize: 30522, hidden: 32, layers: 2, heads: 2, intermediate: 64, maxPositions: 512, layerNormEps: 1e-12, seed: 20240602 },
};

/** Bump when the graph or the weight recipe changes: it is part of the saved model's metadata. */
export const MINILM_RECIPE_VERSION = 2;

export interface MiniLmBuildOptions {
  /** true (default): pooled, normalised `sentence_embedding`; false: `token_type_ids` in, `last_hidden_state` out. */
  pooled?: boolean;
}

/** Additive bias on padded keys; exp() of it underflows to exactly 0 in float32. */
const MASK_NEGATIVE = -10000;

export function buildMiniLm(variant: MiniLmVariant, options: MiniLmBuildOptions = {}): Uint8Array {
  const pooled = options.pooled ?? true;
  const c = MINILM_CONFIGS[variant];
  if (c.hidden % c.heads !== 0) throw new Error("hidden size must be a multiple of the head count");
  const headDim = c.hidden / c.heads;
  const H = c.hidden;
  const rnd = gaussian(c.seed);
  // BERT initialises with std 0.02. Query/key projections get std 1/sqrt(hidden) so attention scores
  // have unit spread (attention is not uniform).
  const std = 0.02;
  const qkStd = 1 / Math.sqrt(H);
  const ones = (n: number) => new Float32Array(n).fill(1);
  const zeros = (n: number) => new Float32Array(n);

  const g = new GraphBuilder(`minilm_l${c.layers}_h${H}_encoder`);
  const ids = g.input("input_ids", "int64", ["batch", "sequence"]);
  const mask = g.input("attention_mask", "int64", ["batch", "sequence"]);
  const tokenTypes = pooled ? null : g.input("token_type_ids", "int64", ["batch", "sequence"]);

  // Embeddings: word + position + token type 0, then LayerNorm.
  const wordEmb = g.floats("embeddings.word_embeddings.weight", [c.vocabSize, H], normalArray(rnd, c.vocabSize * H, std));
  const posEmb = g.floats("embeddings.position_embeddings.weight", [c.maxPositions, H], normalArray(rnd, c.maxPositions * H, std));
  const typeRow0 = normalArray(rnd, H, std);
  const words = g.op("Gather", [wordEmb, ids], { axis: 0 });
  const shape = g.op("Shape", [ids]);
  const seqLen = g.op("Gather", [shape, g.ints("const_one_index", [], [1])], { axis: 0 });
  const positions = g.op("Range", [g.ints("const_zero_i64", [], [0]), seqLen, g.ints("const_one_i64", [], [1])]);
  const pos = g.op("Gather", [posEmb, positions], { axis: 0 });
  // Token type 1 (a second segment) never occurs in single-sentence input; its row is zero, so the random
  // sequence, and every weight after it, is the same in both shapes.
  const typeTable = new Float32Array(2 * H);
  typeTable.set(typeRow0);
  const types =
    tokenTypes === null
      ? g.floats("embeddings.token_type_embeddings.weight.0", [H], typeRow0)
      : g.op("Gather", [g.floats("embeddings.token_type_embeddings.weight", [2, H], typeTable), tokenTypes], { axis: 0 });
  let x = g.op("Add", [g.op("Add", [words, pos]), types]);
  x = layerNorm(g, x, "embeddings.LayerNorm", H, c.layerNormEps, ones, zeros);

  // Additive attention mask [batch, 1, 1, seq]: 0 on real tokens, MASK_NEGATIVE on padding.
  const maskF = g.op("Cast", [mask], { to: 1 });
  const inverted = g.op("Sub", [g.scalar(1), maskF]);
  const bias = g.op("Mul", [inverted, g.scalar(MASK_NEGATIVE)]);
  const maskBias = g.op("Unsqueeze", [bias, g.ints("const_axes_1_2", [2], [1, 2])]);

  const splitShape = g.ints("const_split_heads", [4], [0, 0, c.heads, headDim]);
  const mergeShape = g.ints("const_merge_heads", [3], [0, 0, H]);
  const scale = g.scalar(1 / Math.sqrt(headDim), "attention_scale");

  for (let l = 0; l < c.layers; l++) {
    const p = `encoder.layer.${l}`;
    const linear = (input: string, name: string, inDim: number, outDim: number, wStd: number) => {
      const w = g.floats(`${p}.${name}.weight`, [inDim, outDim], normalArray(rnd, inDim * outDim, wStd));
      const b = g.floats(`${p}.${name}.bias`, [outDim], zeros(outDim));
      return g.op("Add", [g.op("MatMul", [input, w]), b]);
    };
    const heads = (t: string, perm: number[]) => g.op("Transpose", [g.op("Reshape", [t, splitShape])], { perm });
    const q = heads(linear(x, "attention.self.query", H, H, qkStd), [0, 2, 1, 3]); // [B, h, S, d]
    const k = heads(linear(x, "attention.self.key", H, H, qkStd), [0, 2, 3, 1]); // [B, h, d, S]
    const v = heads(linear(x, "attention.self.value", H, H, std), [0, 2, 1, 3]); // [B, h, S, d]
    const scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), maskBias]);
    const attn = g.op("Softmax", [scores], { axis: -1 });
    const context = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [attn, v])], { perm: [0, 2, 1, 3] }), mergeShape]);
    const attnOut = linear(context, "attention.output.dense", H, H, std);
    x = layerNorm(g, g.op("Add", [attnOut, x]), `${p}.attention.output.LayerNorm`, H, c.layerNormEps, ones, zeros);

    const inter = linear(x, "intermediate.dense", H, c.intermediate, std);
    // GELU, erf form: 0.5 * x * (1 + erf(x / sqrt(2)))
    const erf = g.op("Erf", [g.op("Div", [inter, g.scalar(Math.SQRT2)])]);
    const gelu = g.op("Mul", [g.op("Mul", [inter, g.op("Add", [erf, g.scalar(1)])]), g.scalar(0.5)]);
    const ffnOut = linear(gelu, "output.dense", c.intermediate, H, std);
    x = layerNorm(g, g.op("Add", [ffnOut, x]), `${p}.output.LayerNorm`, H, c.layerNormEps, ones, zeros);
  }

  if (!pooled) {
    g.op("Identity", [x], {}, "last_hidden_state");
    g.output("last_hidden_state", "float32", ["batch", "sequence", H]);
    return g.toBytes(
      17,
      `MiniLM-L6-architecture encoder (${variant}: hidden ${H}, ${c.layers} layers, ${c.heads} heads, FFN ${c.intermediate}), per-token output; synthetic weights, seed ${c.seed}`,
    );
  }

  // Attention-masked mean pooling over the sequence, then L2 normalisation (in opset 17 ReduceSum takes
  // its axes as an input, ReduceL2 still as an attribute).
  const axis1 = g.ints("const_axis_1", [1], [1]);
  const maskCol = g.op("Unsqueeze", [maskF, g.ints("const_axis_2", [1], [2])]); // [B, S, 1]
  const summed = g.op("ReduceSum", [g.op("Mul", [x, maskCol]), axis1], { keepdims: 0 }); // [B, H]
  const counts = g.op("Max", [g.op("ReduceSum", [maskF, axis1], { keepdims: 1 }), g.scalar(1e-9)]); // [B, 1]
  const mean = g.op("Div", [summed, counts]);
  const norm = g.op("Max", [g.op("ReduceL2", [mean], { axes: [1], keepdims: 1 }), g.scalar(1e-12)]);
  g.op("Div", [mean, norm], {}, "sentence_embedding");
  g.output("sentence_embedding", "float32", ["batch", H]);

  return g.toBytes(
    17,
    `MiniLM-L6-architecture sentence encoder (${variant}: hidden ${H}, ${c.layers} layers, ${c.heads} heads, FFN ${c.intermediate}); synthetic weights, seed ${c.seed}`,
  );
}

function layerNorm(
  g: GraphBuilder,
  input: string,
  name: string,
  hidden: number,
  eps: number,
  ones: (n: number) => Float32Array,
  zeros: (n: number) => Float32Array,
): string {
  const gamma = g.floats(`${name}.weight`, [hidden], ones(hidden));
  const beta = g.floats(`${name}.bias`, [hidden], zeros(hidden));
  return g.op("LayerNormalization", [input, gamma, beta], { axis: -1, epsilon: { float: eps } });
}
