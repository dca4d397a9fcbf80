import { api, batchable, depends, io, runner, service, type Model } from "bentoc";
import { Tokenizer } from "@huggingface/tokenizers";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** The labels the classifier head predicts, in output order. */
export const LABELS = ["billing", "bug", "account", "other"] as const;
export type Label = (typeof LABELS)[number];

/** A customer support ticket. */
export interface Ticket {
  /**
   * The ticket text, as the customer wrote it.
   * @minLength 1
   * @maxLength 4000
   * @example "I was charged twice for my subscription this month"
   */
  text: string;
  /** Optional ticket id, echoed back. */
  id?: string;
}

/** Probability per label; they sum to 1. */
export type Scores = Record<Label, number>;

export interface Classification {
  label: Label;
  scores: Scores;
  id?: string;
}

/**
 * MiniLM-L6 encoder + linear head, as one ONNX model. Tokenises with the real MiniLM tokenizer, pads
 * each batch to its longest ticket (not to a fixed 128) and returns softmax scores per text.
 */
@runner({ name: "ticket-classifier", model: "support-tickets-minilm:latest", resources: { cpu: "2", memory: "1Gi" } })
export class TicketClassifier {
  model!: Model;
  private tokenizer!: Tokenizer;

  async setup(): Promise<void> {
    const json = JSON.parse(await readFile(join(this.model.path, "tokenizer.json"), "utf8"));
    const config = JSON.parse(await readFile(join(this.model.path, "tokenizer_config.json"), "utf8"));
    json.padding = null; // the shipped file pads to a fixed 128 tokens; we pad per batch instead
    this.tokenizer = new Tokenizer(json, config);
  }

  @batchable({ batchDim: 0, maxBatchSize: 32, maxLatencyMs: 10, groupByLength: true })
  async classify(texts: string[]): Promise<number[][]> {
    const encoded: number[][] = texts.map((t) => this.tokenizer.encode(t, { add_special_tokens: true }).ids.slice(0, 256));
    const seq = Math.max(...encoded.map((ids) => ids.length));
    const ids = new BigInt64Array(texts.length * seq);
    const mask = new BigInt64Array(texts.length * seq);
    encoded.forEach((row, i) => {
      row.forEach((id: number, j: number) => {
        ids[i * seq + j] = BigInt(id);
        mask[i * seq + j] = 1n;
      });
    });
    const shape = [texts.length, seq];
    const out = await this.model.run({
      input_ids: { dtype: "int64", shape, data: ids },
      attention_mask: { dtype: "int64", shape, data: mask },
    });
    const probs = out["probs"];
    if (!probs) throw new Error("model has no 'probs' output");
    const width = LABELS.length;
    return texts.map((_, i) => Array.from(probs.data as Float32Array).slice(i * width, (i + 1) * width));
  }
}

function toClassification(probs: number[], id: string | undefined): Classification {
  const scores = Object.fromEntries(LABELS.map((l, i) => [l, probs[i] ?? 0])) as Scores;
  let best = 0;
  probs.forEach((p, i) => {
    if (p > (probs[best] ?? -Infinity)) best = i;
  });
  const result: Classification = { label: LABELS[best] ?? "other", scores };
  if (id !== undefined) result.id = id;
  return result;
}

/** Routes support tickets to the right team. */
@service({ name: "support-tickets", version: "1.0.0", traffic: { timeoutMs: 10000, maxConcurrency: 512 } })
export class SupportTickets {
  readonly classifier = depends(TicketClassifier);

  /**
   * Classify one ticket.
   * @example {"text": "I was charged twice for my subscription this month", "id": "T-1001"}
   */
  @api({ route: "/classify" })
  async classify(ticket: Ticket): Promise<Classification> {
    const [probs] = await this.classifier.classify([ticket.text]);
    return toClassification(probs ?? [], ticket.id);
  }

  /** Classify a ticket sent as plain text. */
  @api({ route: "/classify-text", input: io.text() })
  async classifyText(text: string): Promise<Classification> {
    const [probs] = await this.classifier.classify([text]);
    return toClassification(probs ?? [], undefined);
  }

  /** The labels this service can predict. */
  @api({ route: "/labels", method: "GET" })
  async labels(): Promise<Label[]> {
    return [...LABELS];
  }
}
