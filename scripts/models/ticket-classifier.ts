/**
 * Fits the support-tickets ClassifierRunner: a multinomial logistic regression over sentence embeddings,
 * 4 classes (billing, bug, account, other), on the project's labelled tickets (ticket-dataset.ts). The
 * embeddings come from the encoder in the model store, computed by the sample's own SentenceEncoder — the
 * code the EmbeddingRunner serves with — so the classifier is fitted on exactly what it will see.
 *
 * The fitted model is exported as ONNX (Gemm + Softmax; input `embedding` float32 [batch, dim], output
 * `probs` float32 [batch, 4]) and scored on the held-out tickets by onnxruntime running those very bytes:
 * the accuracy recorded in the metadata is the served model's.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import ort from "onnxruntime-node";
import { GraphBuilder } from "../../runtime/models/onnx-graph-builder.ts";
import { type EncoderModel, SentenceEncoder } from "../../samples/support-tickets/sentence-encoder.ts";
import { fitLogisticRegression, type LogisticRegression } from "./logistic-regression.ts";
import { HELD_OUT_SHARE, type LabelledTicket, loadTickets, splitTickets, TICKET_LABELS, TICKETS_FILE } from "./ticket-dataset.ts";

/** Bump when the fit or the export changes: it is part of the saved model's metadata. */
export const CLASSIFIER_RECIPE_VERSION = 1;
/** Texts per encoder call while embedding the tickets (the runner's maxBatchSize). */
const EMBED_BATCH = 32;

export interface TicketClassifierFit {
  onnx: Uint8Array;
  metadata: {
    task: string;
    encoder: string;
    dimensions: number;
    classes: string[];
    dataset: string;
    datasetSha256: string;
    examples: number;
    trainSize: number;
    heldOutSize: number;
    heldOutShare: number;
    seed: number;
    trainAccuracy: number;
    heldOutCorrect: number;
    heldOutAccuracy: number;
    /** Held-out accuracy per class, in `classes` order. */
    heldOutAccuracyByClass: number[];
    /** confusion[true][predicted] over the held-out set. */
    heldOutConfusion: number[][];
    /** Smallest gap between the top two probabilities on the held-out set (how far any answer is from a tie). */
    heldOutMinMargin: number;
    model: string;
    optimizer: string;
    c: number;
    steps: number;
    trainLoss: number;
  };
}

export async function embedTexts(encoder: SentenceEncoder, texts: readonly string[]): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < texts.length; i += EMBED_BATCH) out.push(...(await encoder.embed(texts.slice(i, i + EMBED_BATCH))));
  return out;
}

export function buildClassifierOnnx(model: LogisticRegression): Uint8Array {
  const g = new GraphBuilder("ticket_classifier_logreg");
  g.input("embedding", "float32", ["batch", model.features]);
  const w = g.floats("classifier.weight", [model.features, model.classes], Float32Array.from(model.weights));
  const b = g.floats("classifier.bias", [model.classes], Float32Array.from(model.bias));
  const logits = g.op("Gemm", ["embedding", w, b], {}, "logits");
  g.op("Softmax", [logits], { axis: -1 }, "probs");
  g.output("probs", "float32", ["batch", model.classes]);
  return g.toBytes(
    17,
    `Multinomial logistic regression ${model.features} → ${model.classes} (${TICKET_LABELS.join(", ")}), fitted on support-ticket embeddings`,
  );
}

/** Fits on the training split of the tickets, embedded by `encoder`, and scores the held-out split. */
export async function fitTicketClassifier(encoderModel: EncoderModel, options: { seed?: number; file?: string } = {}): Promise<TicketClassifierFit> {
  const file = options.file ?? TICKETS_FILE;
  const tickets = loadTickets(file);
  const split = splitTickets(tickets, options.seed);
  const encoder = await SentenceEncoder.load(encoderModel);
  const classOf = (t: LabelledTicket) => TICKET_LABELS.indexOf(t.label);
  const xTrain = await embedTexts(
    encoder,
    split.train.map((t) => t.text),
  );
  const xHeld = await embedTexts(
    encoder,
    split.heldOut.map((t) => t.text),
  );
  const dimensions = xTrain[0]?.length ?? 0;
  const fitted = fitLogisticRegression(xTrain, split.train.map(classOf), TICKET_LABELS.length);
  const onnx = buildClassifierOnnx(fitted);

  // Score with the exported bytes, as the ClassifierRunner will run them.
  const session = await ort.InferenceSession.create(onnx, { executionMode: "sequential", intraOpNumThreads: 1 });
  const probabilities = async (x: number[][]): Promise<number[][]> => {
    const input = new ort.Tensor("float32", Float32Array.from(x.flat()), [x.length, dimensions]);
    const probs = (await session.run({ embedding: input }))["probs"]!.data as Float32Array;
    return x.map((_, i) => Array.from(probs.subarray(i * TICKET_LABELS.length, (i + 1) * TICKET_LABELS.length)));
  };
  const trainProbs = await probabilities(xTrain);
  const heldProbs = await probabilities(xHeld);
  await session.release();

  const argmax = (p: number[]) => p.indexOf(Math.max(...p));
  const trainCorrect = trainProbs.filter((p, i) => argmax(p) === classOf(split.train[i]!)).length;
  const confusion = TICKET_LABELS.map(() => TICKET_LABELS.map(() => 0));
  let minMargin = Infinity;
  heldProbs.forEach((p, i) => {
    confusion[classOf(split.heldOut[i]!)]![argmax(p)]!++;
    const [first = 0, second = 0] = [...p].sort((a, b) => b - a);
    minMargin = Math.min(minMargin, first - second);
  });
  const heldOutCorrect = confusion.reduce((n, row, c) => n + row[c]!, 0);
  const round = (v: number) => Number(v.toFixed(6));
  return {
    onnx,
    metadata: {
      task: "text-classification",
      encoder: encoderModel.tag,
      dimensions,
      classes: [...TICKET_LABELS],
      dataset: "samples/support-tickets/data/tickets.tsv",
      datasetSha256: createHash("sha256").update(readFileSync(file)).digest("hex"),
      examples: tickets.length,
      trainSize: split.train.length,
      heldOutSize: split.heldOut.length,
      heldOutShare: HELD_OUT_SHARE,
      seed: split.seed,
      trainAccuracy: round(trainCorrect / split.train.length),
      heldOutCorrect,
      heldOutAccuracy: round(heldOutCorrect / split.heldOut.length),
      heldOutAccuracyByClass: confusion.map((row, c) =>
        round(
          row[c]! /
            Math.max(
              1,
              row.reduce((a, b) => a + b, 0),
            ),
        ),
      ),
      heldOutConfusion: confusion,
      heldOutMinMargin: round(minMargin),
      model: `multinomial logistic regression ${dimensions} → ${TICKET_LABELS.length}, standardised features folded into the weights`,
      optimizer: "L-BFGS on mean cross-entropy + ‖W‖²/(2·C·n)",
      c: fitted.c,
      steps: fitted.steps,
      trainLoss: round(fitted.trainLoss),
    },
  };
}
