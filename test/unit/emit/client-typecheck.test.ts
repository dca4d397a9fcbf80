/**
 * The generated client type-checks (source and .d.ts), agrees with its .d.ts, and catches a wrong input
 * type in a program that uses it. Runs the real `tsc` on a temp project.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildClientModel } from "../../../compiler/emit/client/client-model.ts";
import { emitClient } from "../../../compiler/emit/client/emit-client.ts";
import type { Manifest } from "../../../sdk/manifest.ts";
import { ALL_MANIFESTS, loadManifest } from "./load-manifests.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");

const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    lib: ["ES2022", "DOM"],
    types: [],
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    noImplicitOverride: true,
    noUnusedLocals: true,
    verbatimModuleSyntax: true,
    allowImportingTsExtensions: true,
    noEmit: true,
    skipLibCheck: false,
  },
};

let dir: string;

function write(rel: string, content: string): void {
  const file = join(dir, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

/** Runs tsc on the temp project with `files`; returns its output ("" when clean). */
function tsc(files: string[]): string {
  write("tsconfig.json", JSON.stringify({ ...TSCONFIG, files }, null, 2));
  try {
    execFileSync(process.execPath, [TSC, "-p", join(dir, "tsconfig.json"), "--pretty", "false"], { cwd: dir, encoding: "utf8" });
    return "";
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? e);
  }
}

const USE_SUPPORT_TICKETS = (from: string) => `
import { createClient, BentocClientError, type Classification, type ClassifyRequest, type ClassifyResponse, type Ticket, type TicketClassification } from "${from}";
type Label = Classification["label"];

const client = createClient({ baseUrl: "http://localhost:3000", timeoutMs: 1000, headers: { authorization: "Bearer x" } });
export async function main(signal: AbortSignal): Promise<string> {
  const request: ClassifyRequest = { texts: ["I was charged twice", "cannot log in"] };
  const response: ClassifyResponse = await client.classify(request, { signal });
  const first: Classification | undefined = response.results[0];
  const label: Label | undefined = first?.label;
  const score: number = first?.score ?? 0;
  const billing: number = first?.scores.billing ?? 0;
  const ticket: Ticket = { text: "I was charged twice", id: "T-1" };
  const one: TicketClassification = await client.classifyTicket(ticket);
  const id: string | undefined = one.id;
  const fromText = await client.classifyText("refund please", { headers: { "x-request-id": "abc" } });
  const labels: Label[] = await client.labels();
  try {
    await client.classify({ texts: [""] });
  } catch (e) {
    if (e instanceof BentocClientError) {
      const status: number = e.status;
      const code: string = e.body.code;
      return \`\${status} \${code} \${e.requestId} \${String(e.body.detail)}\`;
    }
  }
  return \`\${label} \${score} \${billing} \${id} \${fromText.label} \${labels.length}\`;
}
`;

const manifests = new Map<string, Manifest>();

beforeAll(async () => {
  for (const name of ALL_MANIFESTS) manifests.set(name, await loadManifest(name));
  dir = mkdtempSync(join(tmpdir(), "bentoc-client-tsc-"));
  write("package.json", JSON.stringify({ type: "module", private: true }));
  for (const name of ALL_MANIFESTS) {
    const files = emitClient(manifests.get(name) as Manifest);
    for (const [rel, content] of Object.entries(files)) {
      // the same client twice: as source, and as an installed package of only .js + .d.ts
      if (rel.endsWith(".ts") && !rel.endsWith(".d.ts")) write(join(name, "src", rel), content);
      else write(join(name, "pkg", rel), content);
    }
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("generated client types", () => {
  it("every client's index.ts and index.d.ts type-check under strict settings, with programs using them", () => {
    write("use-src.ts", USE_SUPPORT_TICKETS("./support-tickets/src/client/index.ts"));
    write("use-pkg.ts", USE_SUPPORT_TICKETS("./support-tickets/pkg/client/index.js"));
    write(
      "use-others.ts",
      `
import { createClient as ocrClient } from "./ocr/src/client/index.ts";
import { createClient as tabularClient } from "./tabular/pkg/client/index.js";
import { createClient as edgeClient, type Order } from "./edge-cases/src/client/index.ts";
import { createClient as streamingClient, type GeneratedChar } from "./streaming-text/pkg/client/index.js";

export async function others(png: Uint8Array, order: Order): Promise<number> {
  const ocr = ocrClient({ baseUrl: "/api" });
  const read = await ocr.read(png);
  const first = read.lines[0]?.box[3].x ?? 0;
  const tabular = tabularClient({ baseUrl: "http://localhost:3000" });
  const y = await tabular.predict({ dtype: "float32", shape: [1, 8], data: new Float32Array(8) });
  const p: number | undefined = y.data[0];
  const edge = edgeClient({ baseUrl: "http://localhost:3000", fetch: (u, i) => fetch(u, i) });
  const page = await edge.submitOrder(order);
  const tree = page.items[0]?.category.children[0]?.children.length ?? 0;
  const blob: Blob = await edge.thumbnail(new Blob(["not really a png"], { type: "image/png" }));
  const annotated = await edge.annotate({ photo: png, meta: { author: "me" }, weights: { dtype: "float32", shape: [2], data: [1, 2] } });
  const status = await edge.status();
  const found = await edge.search({ q: "x", limit: 3, priority: "high" });
  const none: null = await edge.ping();
  const scaled = await edge.scale({ dtype: "int64", shape: [1], data: new BigInt64Array(1) });
  const streaming = streamingClient({ baseUrl: "http://localhost:3000" });
  let text = "";
  for await (const item of streaming.generate({ prompt: "the ", maxTokens: 3 }, { signal: AbortSignal.timeout(1000) })) {
    const typed: GeneratedChar = item;
    text += typed.char;
  }
  return text.length + first + (p ?? 0) + tree + blob.size + annotated.parts.length + (status.load ?? 0) + found.length + scaled.shape.length + (none === null ? 0 : 1);
}
`,
    );
    const files = ["use-src.ts", "use-pkg.ts", "use-others.ts"];
    for (const name of ALL_MANIFESTS) files.push(`${name}/src/client/index.ts`, `${name}/pkg/client/index.d.ts`);
    expect(tsc(files)).toBe("");
  });

  it("index.d.ts declares exactly what index.ts exports, with identical types", () => {
    const lines: string[] = ["type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;"];
    const files: string[] = [];
    for (const name of ALL_MANIFESTS) {
      const model = buildClientModel(manifests.get(name) as Manifest);
      const id = name.replace(/-/g, "_");
      lines.push(`import type * as S_${id} from "./${name}/src/client/index.ts";`, `import type * as P_${id} from "./${name}/pkg/client/index.js";`);
      const types = [
        "ErrorBody",
        "ClientOptions",
        "CallOptions",
        "BinaryInput",
        "DType",
        "NdArrayJson",
        "NdArrayInput",
        "FetchLike",
        "BentocClientError",
        model.clientTypeName,
        ...model.declarations.map((d) => /export (?:interface|type) ([A-Za-z0-9_$]+)/.exec(d)?.[1] ?? "?"),
        ...model.apis.flatMap((a) => (a.transport === "none" ? [a.outputTypeName] : [a.inputTypeName, a.outputTypeName])),
      ];
      for (const t of types) lines.push(`export const ${id}_${t}: [Equal<S_${id}.${t}, P_${id}.${t}>, Equal<P_${id}.${t}, S_${id}.${t}>] = [true, true];`);
      lines.push(`export const ${id}_createClient: Equal<typeof S_${id}.createClient, typeof P_${id}.createClient> = true;`);
      lines.push(`export const ${id}_error: Equal<typeof S_${id}.BentocClientError, typeof P_${id}.BentocClientError> = true;`);
      files.push(`${name}/src/client/index.ts`, `${name}/pkg/client/index.d.ts`);
    }
    write("agree.ts", `${lines.join("\n")}\n`);
    expect(tsc(["agree.ts", ...files])).toBe("");
  });

  it("a wrong field type on an input is reported by tsc", () => {
    write(
      "bad.ts",
      `import { createClient } from "./support-tickets/pkg/client/index.js";
const client = createClient({ baseUrl: "http://localhost:3000" });
export const p = client.classify({ texts: [42] });
`,
    );
    write(
      "bad-edge.ts",
      `import { createClient } from "./edge-cases/src/client/index.ts";
const client = createClient({ baseUrl: "http://localhost:3000" });
export const q = client.search({ q: "x", priority: "urgent" });
export const r = client.status({ q: "x" });
`,
    );
    write(
      "bad-stream.ts",
      `import { createClient } from "./streaming-text/src/client/index.ts";
const client = createClient({ baseUrl: "http://localhost:3000" });
export async function misuse(): Promise<string> {
  const item = await client.generate({ prompt: "a" });
  return item.char;
}
export const wrong = client.generate({ prompt: 1 });
`,
    );
    const out = tsc(["bad.ts", "bad-edge.ts", "bad-stream.ts"]);
    // A stream is not a Promise of one item: reading a field of it is a type error.
    expect(out).toMatch(/bad-stream\.ts\(5,15\): error TS2339: Property 'char' does not exist on type 'AsyncIterable<GeneratedChar>'/);
    expect(out).toMatch(/bad-stream\.ts\(7,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
    expect(out).toContain("bad.ts(3,44): error TS2322: Type 'number' is not assignable to type 'string'.");
    expect(out).toMatch(/bad-edge\.ts\(3,\d+\): error TS2322: Type '"urgent"' is not assignable to type 'Priority/);
    expect(out).toMatch(/bad-edge\.ts\(4,\d+\): error TS2353: Object literal may only specify known properties, and 'q' does not exist in type 'CallOptions'/);
  });
});
