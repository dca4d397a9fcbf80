// Batched == unbatched with the real tiny MiniLM-architecture ONNX model (built by scripts/models/minilm.ts):
// token sequences of random lengths, padded per batch with an attention mask, through the dispatcher.
import ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { AdaptiveDispatcher } from "../../../runtime/batching/adaptive-dispatcher.ts";
import type { BatchFunction } from "../../../runtime/batching/batch-function.ts";
import { buildMiniLm } from "../../../scripts/models/minilm.ts";

/** The tiny encoder's embedding width. */
const WIDTH = 32;

describe("AdaptiveDispatcher with the tiny MiniLM ONNX model", () => {
  it("gives batched results equal to unbatched within 1e-5, grouped by length or not", async () => {
    const session = await ort.InferenceSession.create(buildMiniLm("tiny"), { executionMode: "sequential" });
    const embed: BatchFunction<number[], Float32Array> = async (seqs) => {
      const width = Math.max(...seqs.map((s) => s.length));
      const ids = new BigInt64Array(seqs.length * width);
      const mask = new BigInt64Array(seqs.length * width);
      seqs.forEach((s, i) => {
        s.forEach((id, j) => {
          ids[i * width + j] = BigInt(id);
          mask[i * width + j] = 1n;
        });
      });
      const shape = [seqs.length, width];
      const out = await session.run({ input_ids: new ort.Tensor("int64", ids, shape), attention_mask: new ort.Tensor("int64", mask, shape) });
      const embeddings = out["sentence_embedding"]?.data as Float32Array;
      return seqs.map((_, i) => embeddings.slice(i * WIDTH, (i + 1) * WIDTH));
    };
    let seed = 11;
    const rand = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    const seq = () => [101, ...Array.from({ length: 1 + Math.floor(rand() * 40) }, () => 1000 + Math.floor(rand() * 28000)), 102];
    for (const groupByLength of [false, true]) {
      const d = new AdaptiveDispatcher(embed, { maxBatchSize: 8, maxLatencyMs: 2, groupByLength });
      const requests = Array.from({ length: 40 }, () => Array.from({ length: 1 + Math.floor(rand() * 3) }, seq));
      const batched = await Promise.all(requests.map((r) => d.call(r)));
      expect(Math.max(...d.stats().lastBatchSizes), `batch sizes ${d.stats().lastBatchSizes.join(",")}`).toBeGreaterThan(1);
      for (let i = 0; i < requests.length; i++) {
        for (let j = 0; j < requests[i]!.length; j++) {
          const alone = (await embed([requests[i]![j]!], {}))[0];
          const b = batched[i]![j]!;
          for (let k = 0; k < WIDTH; k++) {
            const diff = Math.abs((b[k] as number) - ((alone as Float32Array)[k] as number));
            expect(diff, `request ${i} item ${j} (length ${requests[i]![j]!.length}) dimension ${k}, groupByLength ${groupByLength}`).toBeLessThan(1e-5);
          }
        }
      }
    }
    await session.release();
  });
});
