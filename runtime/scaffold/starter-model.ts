/**
 * The model `bentoc init` creates when given none: a tiny classifier, 4 features → 8 (ReLU) → 3 classes
 * with a softmax, input `x` float32 [N, 4], output `y` float32 [N, 3]. Weights are seeded, not trained:
 * the same bytes on every machine, probabilities that vary with the input and sum to 1, classes that mean
 * nothing. It exists so a new project serves something real within a minute; replace it with your own.
 */
import { GraphBuilder } from "../models/onnx-graph-builder.ts";
import { gaussian, normalArray } from "../models/prng.ts";

export const STARTER_FEATURES = 4;
export const STARTER_HIDDEN = 8;
export const STARTER_CLASSES = 3;
export const STARTER_SEED = 20261201;

export function buildStarterModel(): Uint8Array {
  const rnd = gaussian(STARTER_SEED);
  const g = new GraphBuilder("starter_classifier");
  const x = g.input("x", "float32", ["N", STARTER_FEATURES]);
  const w1 = g.floats("fc1.weight", [STARTER_FEATURES, STARTER_HIDDEN], normalArray(rnd, STARTER_FEATURES * STARTER_HIDDEN, Math.sqrt(2 / STARTER_FEATURES)));
  const b1 = g.floats("fc1.bias", [STARTER_HIDDEN], normalArray(rnd, STARTER_HIDDEN, 0.1));
  const w2 = g.floats("fc2.weight", [STARTER_HIDDEN, STARTER_CLASSES], normalArray(rnd, STARTER_HIDDEN * STARTER_CLASSES, Math.sqrt(2 / STARTER_HIDDEN)));
  const b2 = g.floats("fc2.bias", [STARTER_CLASSES], normalArray(rnd, STARTER_CLASSES, 0.1));
  const h = g.op("Relu", [g.op("Add", [g.op("MatMul", [x, w1]), b1])]);
  const logits = g.op("Add", [g.op("MatMul", [h, w2]), b2], {}, "logits");
  g.op("Softmax", [logits], { axis: -1 }, "y");
  g.output("y", "float32", ["N", STARTER_CLASSES]);
  return g.toBytes(17, `bentoc init starter classifier ${STARTER_FEATURES}→${STARTER_HIDDEN}→${STARTER_CLASSES}; synthetic weights, seed ${STARTER_SEED}`);
}
