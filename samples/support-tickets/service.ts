import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { api, batchable, depends, io, type Model, runner, service } from "bentoc";
import { SentenceEncoder } from "./sentence-encoder.ts";

/** The labels the classifier predicts, in its output order. */
export const LABELS = ["billing", "bug", "account", "other"] as const;
export type Label = (typeof LABELS)[number];

/** Texts to classify, answered in the same order. */
export interface ClassifyRequest {
  /**
   * Ticket texts, each non-empty and at most 4000 characters; 1 to 64 per request.
   * @minItems 1
   * @maxItems 64
   * @example ["refund needed", "cannot log in"]
   */
  texts: TicketText[];
}

/**
 * A ticket's text, as the customer wrote it.
 * @minLength 1
 * @maxLength 4000
 */
export type TicketText = string;

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
  /** The most likely label. */
  label: Label;
  /** Its probability. */
  score: number;
  scores: Scores;
}

export interface ClassifyResponse {
  /** One classification per input text, in input order. */
  results: Classification[];
}

export interface TicketClassification extends Classification {
  id?: string;
}

/**
 * MiniLM-L6 sentence encoder: tokenises with the model's MiniLM tokenizer, pads each batch to its longest
 * text (length-grouped, so batches of short tickets stay short) and returns one unit-length embedding per
 * text (384 numbers with the full model).
 */
@runner({
  name: "embedding",
  model: "support-tickets-minilm:latest",
  resources: { cpu: "2", memory: "2Gi" },
  scaling: { minReplicas: 1, maxReplicas: 8 },
})
export class EmbeddingRunner {
  model!: Model;
  private encoder!: SentenceEncoder;

  async setup(): Promise<void> {
    this.encoder = await SentenceEncoder.load(this.model);
  }

  @batchable({ batchDim: 0, maxBatchSize: 32, maxLatencyMs: 10, groupByLength: true })
  async embed(texts: string[]): Promise<number[][]> {
    return this.encoder.embed(texts);
  }
}

/**
 * Logistic regression over the embeddings (fitted by scripts/models/ticket-classifier.ts): one
 * probability per label for each embedding.
 */
@runner({
  name: "classifier",
  model: "support-tickets-classifier:latest",
  resources: { cpu: "500m", memory: "256Mi" },
  scaling: { minReplicas: 1, maxReplicas: 5 },
})
export class ClassifierRunner {
  model!: Model;
  /** The embedding width the classifier was fitted on. */
  private dimensions = 0;

  async setup(): Promise<void> {
    // classifier.json, saved with the model by the fit: its labels (in output order) and embedding width.
    const info = JSON.parse(await readFile(join(this.model.path, "classifier.json"), "utf8")) as { labels: unknown; dimensions: number };
    if (JSON.stringify(info.labels) !== JSON.stringify(LABELS)) {
      throw new Error(`model ${this.model.tag} predicts ${JSON.stringify(info.labels)}; this service expects ${JSON.stringify(LABELS)}`);
    }
    this.dimensions = info.dimensions;
  }

  @batchable({ batchDim: 0, maxBatchSize: 128, maxLatencyMs: 2 })
  async classify(embeddings: number[][]): Promise<number[][]> {
    const width = this.dimensions;
    const wrong = embeddings.find((e) => e.length !== width);
    if (wrong) {
      throw new Error(
        `model ${this.model.tag} was fitted on ${width}-dimensional embeddings, got ${wrong.length}: refit it on this encoder (npm run models -- --only support-tickets --encoder <tag>)`,
      );
    }
    const x = new Float32Array(embeddings.length * width);
    embeddings.forEach((e, i) => {
      x.set(e, i * width);
    });
    const out = await this.model.run({ embedding: { dtype: "float32", shape: [embeddings.length, width], data: x } });
    const probs = out["probs"];
    if (!probs) throw new Error(`model ${this.model.tag} has no 'probs' output`);
    const data = probs.data as Float32Array;
    return embeddings.map((_, i) => Array.from(data.subarray(i * LABELS.length, (i + 1) * LABELS.length)));
  }
}

function toClassification(probs: readonly number[]): Classification {
  let best = 0;
  probs.forEach((p, i) => {
    if (p > (probs[best] ?? -Infinity)) best = i;
  });
  const scores = Object.fromEntries(LABELS.map((l, i) => [l, probs[i] ?? 0])) as Scores;
  return { label: LABELS[best] ?? "other", score: probs[best] ?? 0, scores };
}

/** Routes support tickets to the right team: an embedding runner, then a classifier runner. */
@service({ name: "support-tickets", version: "1.0.0", traffic: { timeoutMs: 10000, maxConcurrency: 512 } })
export class SupportTickets {
  readonly embedding = depends(EmbeddingRunner);
  readonly classifier = depends(ClassifierRunner);

  private async classifyAll(texts: string[]): Promise<Classification[]> {
    // All texts in one call: they join the embedding runner's queue together (as one or more batches,
    // shared with other requests' texts); then all embeddings in one call to the classifier.
    const embeddings = await this.embedding.embed(texts);
    const probs = await this.classifier.classify(embeddings);
    return probs.map(toClassification);
  }

  /**
   * Classify tickets: a label and its score per text, in input order.
   * @example {"texts": ["refund needed", "cannot log in"]}
   */
  @api({ route: "/classify" })
  async classify(request: ClassifyRequest): Promise<ClassifyResponse> {
    return { results: await this.classifyAll(request.texts) };
  }

  /**
   * Classify one ticket; its id is echoed back.
   * @example {"text": "I was charged twice for my subscription this month", "id": "T-1001"}
   */
  @api({ route: "/classify-ticket" })
  async classifyTicket(ticket: Ticket): Promise<TicketClassification> {
    const [result] = await this.classifyAll([ticket.text]);
    if (!result) throw new Error("the classifier returned no result");
    return ticket.id === undefined ? result : { ...result, id: ticket.id };
  }

  /** Classify a ticket sent as plain text. */
  @api({ route: "/classify-text", input: io.text() })
  async classifyText(text: string): Promise<Classification> {
    const [result] = await this.classifyAll([text]);
    if (!result) throw new Error("the classifier returned no result");
    return result;
  }

  /** The labels this service can predict. */
  @api({ route: "/labels", method: "GET" })
  async labels(): Promise<Label[]> {
    return [...LABELS];
  }
}
