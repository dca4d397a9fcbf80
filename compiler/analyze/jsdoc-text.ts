/** Summary, description and `@example`s of a class or method from its JSDoc (ts-morph nodes). */
import { Node } from "../ts-morph.ts";
import { parseJsonOrText } from "./schema/jsdoc.ts";

export interface DocText {
  summary?: string;
  description?: string;
  examples: unknown[];
}

export function docText(node: Node): DocText {
  const docs = Node.isJSDocable(node) ? node.getJsDocs() : [];
  const doc = docs[docs.length - 1];
  if (!doc) return { examples: [] };
  const text = (doc.getDescription() ?? "").trim().replace(/\r\n/g, "\n");
  const examples = doc
    .getTags()
    .filter((t) => t.getTagName() === "example")
    .map((t) => (t.getCommentText() ?? "").trim())
    .filter((t) => t !== "")
    .map(parseJsonOrText);
  const out: DocText = { examples };
  if (text) {
    const summary = (text.split(/\n\s*\n/)[0] ?? text).replace(/\s*\n\s*/g, " ").trim();
    out.summary = summary;
    if (text !== summary) out.description = text;
  }
  return out;
}
