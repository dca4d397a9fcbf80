import { api, batchable, depends, io, type Model, type NdArray, runner, service } from "bentoc";

/** Number of features per row the model takes. */
export const FEATURES = 8;

/**
 * A small MLP over 8 numeric features that returns 3 class probabilities per row. Rows are the batch
 * dimension: calls from concurrent requests are concatenated along dimension 0.
 */
@runner({ name: "tabular-mlp", model: "tabular-mlp:latest", resources: { cpu: "500m", memory: "256Mi" } })
export class TabularModel {
  model!: Model;

  @batchable({ batchDim: 0, maxBatchSize: 256, maxLatencyMs: 5 })
  async predict(rows: NdArray[]): Promise<NdArray[]> {
    const total = rows.reduce((n, r) => n + (r.shape[0] ?? 0), 0);
    const x = new Float32Array(total * FEATURES);
    let offset = 0;
    for (const r of rows) {
      x.set(r.data as Float32Array, offset);
      offset += r.data.length;
    }
    const out = await this.model.run({ x: { dtype: "float32", shape: [total, FEATURES], data: x } });
    const y = out["y"];
    if (!y) throw new Error("model has no 'y' output");
    const width = y.shape[1] ?? 0;
    const result: NdArray[] = [];
    let row = 0;
    for (const r of rows) {
      const n = r.shape[0] ?? 0;
      result.push({ dtype: "float32", shape: [n, width], data: (y.data as Float32Array).slice(row * width, (row + n) * width) });
      row += n;
    }
    return result;
  }
}

/** Scores rows of 8 features with a small MLP. */
@service({ name: "tabular", version: "1.0.0" })
export class Tabular {
  readonly mlp = depends(TabularModel);

  /** Class probabilities for each row of a float32 [rows, 8] array. */
  @api({ route: "/predict", input: io.ndarray({ dtype: "float32", shape: [null, 8] }), output: io.ndarray({ dtype: "float32" }) })
  async predict(x: NdArray): Promise<NdArray> {
    const [y] = await this.mlp.predict([x]);
    if (!y) throw new Error("no result");
    return y;
  }
}
