/**
 * Builds the streaming-text sample's model: one step of a character-level recurrent language model with
 * seeded weights. Each call advances every row of the batch by one character:
 *
 *   e = Embedding[token]                       [N, H]
 *   h = tanh(e·Wx + state·Wh + b)              [N, H]  → output `state_out`
 *   logits = h·Wo + bo                         [N, V]  → output `logits`
 *
 * Inputs `token` int64 [N] (an index into CHARGEN_VOCAB) and `state` float32 [N, H]. The weights are
 * synthetic (the text is gibberish, but deterministic), the compute is real, and rows are independent, so
 * steps of concurrent streams batch along dimension 0.
 */
import { GraphBuilder } from "../../runtime/models/onnx-graph-builder.ts";
import { gaussian, normalArray } from "../../runtime/models/prng.ts";

/** The characters the model reads and writes; index 0 (a space) also starts an empty prompt. */
export const CHARGEN_VOCAB = " abcdefghijklmnopqrstuvwxyz.,!?'";
export const CHARGEN_HIDDEN = 64;
export const CHARGEN_SEED = 20250117;

export function buildCharGen(): Uint8Array {
  const V = CHARGEN_VOCAB.length;
  const H = CHARGEN_HIDDEN;
  const rnd = gaussian(CHARGEN_SEED);
  const g = new GraphBuilder("chargen_step");
  const token = g.input("token", "int64", ["N"]);
  const state = g.input("state", "float32", ["N", H]);
  const emb = g.floats("embedding", [V, H], normalArray(rnd, V * H, 1));
  const wx = g.floats("rnn.wx", [H, H], normalArray(rnd, H * H, 1 / Math.sqrt(H)));
  // A recurrent gain a little above 1 keeps the state moving (greedy decoding then wanders instead of repeating at once).
  const wh = g.floats("rnn.wh", [H, H], normalArray(rnd, H * H, 1.2 / Math.sqrt(H)));
  const b = g.floats("rnn.bias", [H], normalArray(rnd, H, 0.1));
  const wo = g.floats("head.weight", [H, V], normalArray(rnd, H * V, 2 / Math.sqrt(H)));
  const bo = g.floats("head.bias", [V], normalArray(rnd, V, 0.1));
  const e = g.op("Gather", [emb, token], { axis: 0 });
  const pre = g.op("Add", [g.op("Add", [g.op("MatMul", [e, wx]), g.op("MatMul", [state, wh])]), b]);
  g.op("Tanh", [pre], {}, "state_out");
  g.op("Add", [g.op("MatMul", ["state_out", wo]), bo], {}, "logits");
  g.output("logits", "float32", ["N", V]);
  g.output("state_out", "float32", ["N", H]);
  return g.toBytes(17, `character-level RNN step, vocab ${V}, hidden ${H}; synthetic weights, seed ${CHARGEN_SEED}`);
}
