/**
 * Builds the tabular sample's model: an MLP 8 → 16 (Relu) → 3 with a softmax, seeded weights.
 * Input `x` float32 [N, 8], output `y` float32 [N, 3].
 */
import { GraphBuilder } from "../../runtime/models/onnx-graph-builder.ts";
import { gaussian, normalArray } from "../../runtime/models/prng.ts";

export const TABULAR_FEATURES = 8;
export const TABULAR_HIDDEN = 16;
export const TABULAR_CLASSES = 3;
export const TABULAR_SEED = 20240603;
/** Bump when the graph or the weight recipe changes. */
export const TABULAR_RECIPE_VERSION = 1;

export function buildTabular(): Uint8Array {
  const rnd = gaussian(TABULAR_SEED);
  const g = new GraphBuilder("tabular_mlp");
  const x = g.input("x", "float32", ["N", TABULAR_FEATURES]);
  // He-style init (std sqrt(2 / fan_in)) so the class probabilities vary with the input.
  const w1 = g.floats("fc1.weight", [TABULAR_FEATURES, TABULAR_HIDDEN], normalArray(rnd, TABULAR_FEATURES * TABULAR_HIDDEN, Math.sqrt(2 / TABULAR_FEATURES)));
  const b1 = g.floats("fc1.bias", [TABULAR_HIDDEN], normalArray(rnd, TABULAR_HIDDEN, 0.1));
  const w2 = g.floats("fc2.weight", [TABULAR_HIDDEN, TABULAR_CLASSES], normalArray(rnd, TABULAR_HIDDEN * TABULAR_CLASSES, Math.sqrt(2 / TABULAR_HIDDEN)));
  const b2 = g.floats("fc2.bias", [TABULAR_CLASSES], normalArray(rnd, TABULAR_CLASSES, 0.1));
  const h = g.op("Relu", [g.op("Add", [g.op("MatMul", [x, w1]), b1])]);
  const logits = g.op("Add", [g.op("MatMul", [h, w2]), b2], {}, "logits");
  g.op("Softmax", [logits], { axis: -1 }, "y");
  g.output("y", "float32", ["N", TABULAR_CLASSES]);
  return g.toBytes(17, `tabular MLP ${TABULAR_FEATURES}→${TABULAR_HIDDEN}→${TABULAR_CLASSES}; synthetic weights, seed ${TABULAR_SEED}`);
}
