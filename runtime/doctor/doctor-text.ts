/** `bentoc doctor`'s text: one aligned `label  value` line per fact, with a hint where one helps. */
import type { EnvironmentFacts } from "./environment-facts.ts";

const PROVIDER_HINT = "their install script adds them: see docs/install.md, GPU";

export function doctorText(f: EnvironmentFacts): string {
  const providers = f.onnxruntime.providers;
  const available = providers.filter((p) => p.status !== "missing").map((p) => p.name);
  const missing = providers.filter((p) => p.status === "missing").map((p) => p.name);
  const ort = f.onnxruntime.version === null ? `not installed (${f.onnxruntime.error ?? "?"})` : `onnxruntime-node ${f.onnxruntime.version}`;
  const tools = f.containers.tools.map((t) => (t.path ? `${t.name} (${t.version ?? t.path})` : `${t.name}: not found`));
  const rows: [string, string][] = [
    ["bentoc", `${f.bentoc.version} (${f.bentoc.root}, from ${f.bentoc.from})`],
    ["node", `${f.node.version} (ABI ${f.node.abi}, N-API ${f.node.napi}, V8 ${f.node.v8})`],
    ["platform", `${f.platform.os}-${f.platform.arch}, ${f.platform.libc}`],
    ["http backend", f.http.backend === null ? `none: ${f.http.reason}` : f.http.reason],
    ["onnxruntime", f.onnxruntime.error && f.onnxruntime.version !== null ? `${ort}: ${f.onnxruntime.error}` : ort],
    ["providers", available.length ? available.join(", ") + (missing.length ? `; not installed: ${missing.join(", ")} (${PROVIDER_HINT})` : "") : "none"],
    [
      "model store",
      `${f.modelStore.path} (${f.modelStore.exists ? `${f.modelStore.models ?? "?"} model${f.modelStore.models === 1 ? "" : "s"}` : "not created yet; BENTOC_HOME moves it"})`,
    ],
    ["containers", `${tools.join(", ")}${f.containers.selected ? `; containerize uses ${f.containers.selected}` : "; containerize needs one of them"}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n")}\n`;
}
