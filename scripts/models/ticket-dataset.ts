/**
 * The labelled support tickets the ClassifierRunner is fitted on (samples/support-tickets/data/tickets.tsv),
 * and their split into a training set and a held-out set the fit never sees: per label, a seeded shuffle
 * (mulberry32) puts the first quarter aside. The split depends only on the file and the seed, so a test can
 * rebuild the held-out set from the seed recorded in the model's metadata.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { mulberry32 } from "../../runtime/models/prng.ts";

/** The classes, in the classifier's output order (the service's LABELS). */
export const TICKET_LABELS = ["billing", "bug", "account", "other"] as const;
export type TicketLabel = (typeof TICKET_LABELS)[number];

export const TICKETS_FILE = fileURLToPath(new URL("../../samples/support-tickets/data/tickets.tsv", import.meta.url));
/** The share of each label held out from the fit. */
export const HELD_OUT_SHARE = 0.25;
export const SPLIT_SEED = 20250815;

export interface LabelledTicket {
  text: string;
  label: TicketLabel;
}

export interface TicketSplit {
  train: LabelledTicket[];
  heldOut: LabelledTicket[];
  seed: number;
}

/** Parses `label<TAB>text` lines; `#` lines and blank lines are comments. Throws on anything else, naming the line. */
export function parseTickets(tsv: string, source = "tickets.tsv"): LabelledTicket[] {
  const out: LabelledTicket[] = [];
  tsv.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "" || line.startsWith("#")) return;
    const tab = line.indexOf("\t");
    const label = line.slice(0, tab);
    const text = line.slice(tab + 1).trim();
    if (tab < 0 || !(TICKET_LABELS as readonly string[]).includes(label) || text === "") {
      throw new Error(`${source}:${i + 1}: expected "<${TICKET_LABELS.join("|")}><TAB><text>", got ${JSON.stringify(line.slice(0, 60))}`);
    }
    out.push({ label: label as TicketLabel, text });
  });
  return out;
}

export function loadTickets(file = TICKETS_FILE): LabelledTicket[] {
  return parseTickets(readFileSync(file, "utf8"), file);
}

/** Stratified split: per label (in file order), a seeded Fisher–Yates shuffle; the first HELD_OUT_SHARE is held out. */
export function splitTickets(tickets: readonly LabelledTicket[], seed = SPLIT_SEED): TicketSplit {
  const random = mulberry32(seed);
  const train: LabelledTicket[] = [];
  const heldOut: LabelledTicket[] = [];
  for (const label of TICKET_LABELS) {
    const group = tickets.filter((t) => t.label === label);
    for (let i = group.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [group[i], group[j]] = [group[j]!, group[i]!];
    }
    const n = Math.round(group.length * HELD_OUT_SHARE);
    heldOut.push(...group.slice(0, n));
    train.push(...group.slice(n));
  }
  return { train, heldOut, seed };
}
