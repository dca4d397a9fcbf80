import { api, batchable, depends, type Model, runner, service } from "bentoc";

/** The characters the model reads and writes (scripts/models/chargen.ts builds it with the same). */
export const VOCAB = " abcdefghijklmnopqrstuvwxyz.,!?'";
/** Size of the recurrent state. */
export const HIDDEN = 64;

/** One row of a decode step: the last character and the state after the characters before it. */
export interface StepInput {
  /** Index of the character into the vocabulary. */
  token: number;
  state: number[];
}

/** The most likely next character (greedy) and the new state. */
export interface StepOutput {
  token: number;
  state: number[];
}

/**
 * One step of a character-level recurrent model. Each stream calls `step` once per character; the steps
 * of concurrent streams are merged into one batch (rows along dimension 0) and run as one model call.
 */
@runner({ name: "char-rnn", model: "streaming-text-chargen:latest", resources: { cpu: "500m", memory: "256Mi" } })
export class CharRnn {
  model!: Model;

  @batchable({ batchDim: 0, maxBatchSize: 64, maxLatencyMs: 5 })
  async step(rows: StepInput[]): Promise<StepOutput[]> {
    const n = rows.length;
    const token = new BigInt64Array(n);
    const state = new Float32Array(n * HIDDEN);
    rows.forEach((r, i) => {
      token[i] = BigInt(r.token);
      state.set(r.state, i * HIDDEN);
    });
    const out = await this.model.run({ token: { dtype: "int64", shape: [n], data: token }, state: { dtype: "float32", shape: [n, HIDDEN], data: state } });
    const logits = out["logits"]?.data as Float32Array | undefined;
    const next = out["state_out"]?.data as Float32Array | undefined;
    if (!logits || !next) throw new Error("model lacks the 'logits' or 'state_out' output");
    const v = VOCAB.length;
    return rows.map((_, i) => {
      let best = 0;
      for (let j = 1; j < v; j++) if ((logits[i * v + j] as number) > (logits[i * v + best] as number)) best = j;
      return { token: best, state: Array.from(next.subarray(i * HIDDEN, (i + 1) * HIDDEN)) };
    });
  }
}

export interface GenerateRequest {
  /**
   * Text the generation continues (lower-case letters, space and . , ! ? ').
   * @maxLength 200
   * @pattern ^[a-z .,!?']*$
   */
  prompt: string;
  /**
   * How many characters to generate.
   * @integer
   * @minimum 1
   * @maximum 2000
   * @default 40
   */
  maxTokens?: number;
}

/** One generated character. */
export interface GeneratedChar {
  /** Position in the generated text, from 0. */
  index: number;
  char: string;
}

/** Generates text one character at a time and streams each as it is produced. */
@service({ name: "streaming-text", version: "1.0.0" })
export class StreamingText {
  readonly rnn = depends(CharRnn);

  /**
   * Continues a prompt, streaming one character at a time.
   *
   * Greedy decoding: the same prompt always gives the same text. Each character is sent as soon as its
   * step has run.
   * @example {"prompt": "the ", "maxTokens": 8}
   */
  @api({ route: "/generate" })
  async *generate(input: GenerateRequest): AsyncGenerator<GeneratedChar> {
    let step: StepOutput = { token: 0, state: new Array<number>(HIDDEN).fill(0) };
    for (const ch of input.prompt || " ") step = await this.next(Math.max(0, VOCAB.indexOf(ch)), step.state);
    const total = input.maxTokens ?? 40;
    for (let index = 0; index < total; index++) {
      yield { index, char: VOCAB[step.token] ?? " " };
      if (index + 1 < total) step = await this.next(step.token, step.state);
    }
  }

  private async next(token: number, state: number[]): Promise<StepOutput> {
    const [out] = await this.rnn.step([{ token, state }]);
    if (!out) throw new Error("no step result");
    return out;
  }
}
