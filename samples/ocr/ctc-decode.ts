/** Greedy CTC decoding for PaddleOCR recognition output, and its character dictionary. */
import type { Recognised } from "./service.ts";

/**
 * The class list of a PaddleOCR recognition model from its keys file (one character per line):
 * class 0 is the CTC blank, class i is line i-1, and a space is appended last — PaddleOCR's
 * `BaseRecLabelDecode` with `use_space_char` (true in tools/infer/utility.py) appends " " to the keys and
 * `CTCLabelDecode` puts "blank" first (ppocr/postprocess/rec_postprocess.py). For PP-OCRv4 that is
 * 1 + 6623 lines of ppocr_keys_v1.txt (which has no space line) + 1 = 6625, the model's output width.
 */
export function parseDictionary(keysFile: string): string[] {
  const lines = keysFile.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  return [...lines, " "];
}

/**
 * Decodes one sequence of per-step class probabilities (`steps * classes`, starting at `offset`):
 * argmax per step, repeats collapsed, blanks (class 0) dropped. Confidence is the mean of the kept
 * characters' probabilities (0 for no characters).
 */
export function ctcGreedyDecode(probs: ArrayLike<number>, offset: number, steps: number, classes: number, dictionary: readonly string[]): Recognised {
  if (dictionary.length + 1 !== classes) {
    throw new Error(`the model has ${classes} classes but the dictionary ${dictionary.length} characters (+1 blank)`);
  }
  let text = "";
  let sum = 0;
  let kept = 0;
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    const base = offset + t * classes;
    let best = 0;
    let bestP = probs[base]!;
    for (let c = 1; c < classes; c++) {
      const p = probs[base + c]!;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== 0 && best !== prev) {
      text += dictionary[best - 1]!;
      sum += bestP;
      kept++;
    }
    prev = best;
  }
  return { text, confidence: kept ? sum / kept : 0 };
}
