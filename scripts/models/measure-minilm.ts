/**
 * Times the generated MiniLM classifier in onnxruntime-node, without HTTP: median latency of one run at
 * batch 1/8/32 for ~20-token inputs, and the implied texts per second.
 *
 *   tsx scripts/models/measure-minilm.ts [--variant full|tiny] [--threads N] [--seq 20] [--runs 20]
 */

import { parseArgs } from "node:util";
import ort from "onnxruntime-node";
import { buildMiniLm, type MiniLmVariant } from "./minilm.ts";

const { values } = parseArgs({
  options: {
    variant: { type: "string", default: "full" },
    threads: { type: "string" },
    seq: { type: "string", default: "20" },
    runs: { type: "string", default: "20" },
    batches: { type: "string", default: "1,8,32" },
  },
});

const variant = values.variant as MiniLmVariant;
const seq = Number(values.seq);
const runs = Number(values.runs);
const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: "all", executionMode: "sequential" };
if (values.threads) options.intraOpNumThreads = Number(values.threads);
const session = await ort.InferenceSession.create(buildMiniLm(variant), options);

function feeds(batch: number): Record<string, ort.Tensor> {
  const ids = new BigInt64Array(batch * seq);
  const mask = new BigInt64Array(batch * seq).fill(1n);
  for (let i = 0; i < ids.length; i++) ids[i] = BigInt(1000 + ((i * 7919) % 28000));
  return { input_ids: new ort.Tensor("int64", ids, [batch, seq]), attention_mask: new ort.Tensor("int64", mask, [batch, seq]) };
}

console.log(`MiniLM ${variant}, seq ${seq}, threads ${values.threads ?? "default"}, ${runs} runs each`);
console.log("batch  median ms  p90 ms  texts/s");
for (const batch of values.batches.split(",").map(Number)) {
  const f = feeds(batch);
  for (let i = 0; i < 3; i++) await session.run(f);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await session.run(f);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? 0;
  const p90 = times[Math.floor(times.length * 0.9)] ?? 0;
  console.log(
    `${String(batch).padStart(5)}  ${median.toFixed(2).padStart(9)}  ${p90.toFixed(2).padStart(6)}  ${((batch * 1000) / median).toFixed(0).padStart(7)}`,
  );
}
await session.release();
