/**
 * `npm run demo`: the README's main job. Prepares the support-tickets models in the model store if missing
 * (the MiniLM-L6-architecture encoder with seeded weights, and the logistic regression fitted on its
 * embeddings of the labelled tickets), compiles and serves samples/support-tickets, and once it is ready
 * prints a curl line (and its answer) that classifies two tickets: a label and a score per text, in order.
 * Ctrl-C stops it.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { prepareModels } from "./models/prepare.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const port = Number(process.env["BENTOC_PORT"] ?? process.env["PORT"] ?? 3000);
const variant = process.env["BENTOC_DEMO_VARIANT"] === "tiny" ? "tiny" : "full";

await prepareModels({ variant, only: ["support-tickets"] });

const server = spawn(
  process.execPath,
  [fileURLToPath(new URL("../dist/cli/bentoc.js", import.meta.url)), "serve", "samples/support-tickets", "--port", String(port)],
  {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  },
);
const stop = (signal: NodeJS.Signals) => server.kill(signal);
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
server.on("exit", (code) => process.exit(code ?? 0));

const base = `http://127.0.0.1:${port}`;
const body = JSON.stringify({ texts: ["refund needed", "cannot log in"] });
for (let i = 0; i < 600; i++) {
  await new Promise((r) => setTimeout(r, 250));
  const ready = await fetch(`${base}/readyz`).then(
    (r) => r.ok,
    () => false,
  );
  if (!ready) continue;
  const answer = await fetch(`${base}/classify`, { method: "POST", headers: { "content-type": "application/json" }, body }).then((r) => r.text());
  const texts = (JSON.parse(body) as { texts: string[] }).texts;
  let summary = "";
  try {
    const { results } = JSON.parse(answer) as { results: { label: string; score: number }[] };
    summary = results.map((r, i) => `\n  ${JSON.stringify(texts[i])} → ${r.label} (${r.score.toFixed(2)})`).join("");
  } catch {
    // not the expected answer: the raw text above says why
  }
  process.stdout.write(
    `\nReady. Try it:\n\n  curl -s ${base}/classify -H 'content-type: application/json' -d '${body}'\n\n` +
      `which answers:\n  ${answer}\n${summary}\n\nSwagger UI: ${base}/docs   (Ctrl-C stops the server)\n\n`,
  );
  break;
}
