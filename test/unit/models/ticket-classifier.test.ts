/**
 * The support-tickets classifier's fit, piece by piece: the labelled set and its seeded split, the logistic
 * regression (it reaches the optimum of its objective, deterministically), and the ONNX export (computes
 * what the fitted model does).
 */
import ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../../runtime/models/prng.ts";
import { fitLogisticRegression, predictProba } from "../../../scripts/models/logistic-regression.ts";
import { buildClassifierOnnx } from "../../../scripts/models/ticket-classifier.ts";
import { HELD_OUT_SHARE, loadTickets, parseTickets, splitTickets, TICKET_LABELS } from "../../../scripts/models/ticket-dataset.ts";

/** Three overlapping Gaussian blobs in 5 dimensions (a seeded, non-separable problem). */
function blobs(n: number, seed: number): { x: number[][]; y: number[] } {
  const random = mulberry32(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    x.push(Array.from({ length: 5 }, (_, j) => (j === c ? 1.5 : 0) + (random() - 0.5) * 3 + (j === 4 ? 10 : 0)));
    y.push(c);
  }
  return { x, y };
}

describe("the labelled tickets", () => {
  const tickets = loadTickets();

  it("has at least 200 distinct tickets, balanced over the four labels", () => {
    expect(tickets.length).toBeGreaterThanOrEqual(200);
    expect(new Set(tickets.map((t) => t.text)).size).toBe(tickets.length);
    const counts = TICKET_LABELS.map((l) => tickets.filter((t) => t.label === l).length);
    expect(new Set(counts).size).toBe(1);
  });

  it("splits per label by a seeded shuffle: a quarter held out, disjoint, the same for the same seed", () => {
    const split = splitTickets(tickets);
    expect(split.heldOut).toHaveLength(tickets.length * HELD_OUT_SHARE);
    expect(split.train.length + split.heldOut.length).toBe(tickets.length);
    for (const l of TICKET_LABELS) expect(split.heldOut.filter((t) => t.label === l)).toHaveLength((tickets.length * HELD_OUT_SHARE) / 4);
    const held = new Set(split.heldOut.map((t) => t.text));
    expect(split.train.some((t) => held.has(t.text))).toBe(false);
    expect(splitTickets(tickets)).toEqual(split);
    expect(splitTickets(tickets, 7).heldOut).not.toEqual(split.heldOut);
  });

  it("refuses a malformed line, naming it", () => {
    expect(parseTickets("# comment\n\nbilling\trefund please\n")).toEqual([{ label: "billing", text: "refund please" }]);
    expect(() => parseTickets("billing\tok\nspam\tbuy now\n", "t.tsv")).toThrow(
      /t\.tsv:2: expected "<billing\|bug\|account\|other><TAB><text>", got "spam\\tbuy now"/,
    );
    expect(() => parseTickets("bug\t  \n", "t.tsv")).toThrow(/t\.tsv:1/);
  });
});

describe("logistic regression", () => {
  const { x, y } = blobs(300, 3);

  it("reaches the minimum of its objective: the gradient vanishes, and any step away costs more", () => {
    const m = fitLogisticRegression(x, y, 3);
    expect(m.gradientNorm).toBeLessThan(1e-6);
    expect(m.steps).toBeGreaterThan(0);
    // Objective on raw features with the folded weights = the standardised one; perturbing a weight raises it.
    const n = x.length;
    const std = [0, 1, 2, 3, 4].map((j) => Math.sqrt(x.reduce((s, r) => s + (r[j]! - x.reduce((a, q) => a + q[j]!, 0) / n) ** 2, 0) / n));
    const objective = (w: Float64Array) => {
      const model = { ...m, weights: w };
      const ce = x.reduce((s, r, i) => s - Math.log(predictProba(model, r)[y[i]!]!), 0) / n;
      let penalty = 0;
      for (let j = 0; j < 5; j++) for (let c = 0; c < 3; c++) penalty += (w[j * 3 + c]! * std[j]!) ** 2;
      return ce + penalty / (2 * n);
    };
    const best = objective(m.weights);
    for (const q of [0, 7, 14]) {
      for (const d of [-1e-3, 1e-3]) {
        const w = Float64Array.from(m.weights);
        w[q]! += d;
        expect(objective(w)).toBeGreaterThan(best);
      }
    }
  });

  it("is deterministic and learns the classes", () => {
    const a = fitLogisticRegression(x, y, 3);
    const b = fitLogisticRegression(x, y, 3);
    expect(Buffer.from(a.weights.buffer)).toEqual(Buffer.from(b.weights.buffer));
    const correct = x.filter((r, i) => {
      const p = predictProba(a, r);
      return p.indexOf(Math.max(...p)) === y[i];
    }).length;
    expect(correct / x.length).toBeGreaterThan(0.6);
  });

  it("refuses inconsistent input", () => {
    expect(() => fitLogisticRegression([], [], 2)).toThrow(/at least one example/);
    expect(() => fitLogisticRegression([[1], [1, 2]], [0, 1], 2)).toThrow(/example 1 has 2 features, not 1/);
    expect(() => fitLogisticRegression([[1]], [2], 2)).toThrow(/label 2 of example 0/);
  });

  it("exports to ONNX (Gemm + Softmax) computing the fitted probabilities", async () => {
    const m = fitLogisticRegression(x, y, 3);
    const session = await ort.InferenceSession.create(buildClassifierOnnx(m));
    expect(session.inputNames).toEqual(["embedding"]);
    expect(session.outputNames).toEqual(["probs"]);
    const input = new ort.Tensor("float32", Float32Array.from(x.slice(0, 10).flat()), [10, 5]);
    const probs = (await session.run({ embedding: input }))["probs"]!.data as Float32Array;
    for (let i = 0; i < 10; i++) {
      const want = predictProba(m, x[i]!.map(Math.fround));
      for (let c = 0; c < 3; c++) expect(Math.abs(probs[i * 3 + c]! - want[c]!)).toBeLessThan(1e-5);
    }
    await session.release();
  });
});
