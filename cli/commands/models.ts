/**
 * `bentoc models save|list|get|delete|export|import|push|pull`: the model store from the command line
 * (push and pull: runtime/registry/).
 * Errors go to stderr as one line, exit code 1, no stack trace.
 */
import { type Command, InvalidArgumentError } from "commander";
import { stringify as toYaml } from "yaml";
import type { ModelSignature, ModelStore, StoredModel } from "../../runtime/models/index.ts";
import { addRegistryFlags, errorLine, progressPrinter, pushSummary, type RegistryFlags, remoteOptions } from "../registry-flags.ts";

/** The model store at $BENTOC_HOME, loaded on use so other commands start without it. */
async function openStore(): Promise<ModelStore> {
  const { ModelStore } = await import("../../runtime/models/index.ts");
  return new ModelStore();
}

type Output = "table" | "json" | "yaml" | "path";

function collect(parse: (value: string) => [string, unknown]) {
  return (value: string, previous: Record<string, unknown> = {}): Record<string, unknown> => {
    const [k, v] = parse(value);
    return { ...previous, [k]: v };
  };
}

function keyValue(flag: string) {
  return (value: string): [string, string] => {
    const eq = value.indexOf("=");
    if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE for ${flag}, got ${JSON.stringify(value)}`);
    return [value.slice(0, eq), value.slice(eq + 1)];
  };
}

/** Metadata values are JSON when they parse as JSON (`epochs=10`, `tags=["a"]`), strings otherwise. */
function metadataValue(value: string): [string, unknown] {
  const [k, raw] = keyValue("--metadata")(value);
  try {
    return [k, JSON.parse(raw) as unknown];
  } catch {
    return [k, raw];
  }
}

/** `METHOD[:batchable[=true|false][,batchDim=N]]`. */
export function parseSignature(value: string): [string, ModelSignature] {
  const colon = value.indexOf(":");
  const method = colon < 0 ? value : value.slice(0, colon);
  const sig: ModelSignature = { batchable: false, batchDim: 0 };
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(method))
    throw new InvalidArgumentError(`invalid signature ${JSON.stringify(value)}: expected METHOD:batchable,batchDim=0`);
  for (const part of colon < 0
    ? []
    : value
        .slice(colon + 1)
        .split(",")
        .filter(Boolean)) {
    const [key, v] = part.split("=", 2) as [string, string | undefined];
    if (key === "batchable" && (v === undefined || v === "true" || v === "false")) sig.batchable = v !== "false";
    else if (key === "batchDim" && v !== undefined && /^\d+$/.test(v)) sig.batchDim = Number(v);
    else
      throw new InvalidArgumentError(`invalid signature option ${JSON.stringify(part)} in ${JSON.stringify(value)}: use batchable[=true|false] and batchDim=N`);
  }
  return [method, sig];
}

function output(allowed: readonly Output[]) {
  return (value: string): Output => {
    if (!(allowed as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${allowed.join(", ")}`);
    return value as Output;
  };
}

function fail(err: unknown): void {
  process.stderr.write(`${errorLine(err)}\n`);
  process.exitCode = 1;
}

function action<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await fn(...args);
    } catch (err) {
      fail(err);
    }
  };
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1 << 20) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1 << 30) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  return `${(bytes / (1 << 30)).toFixed(2)} GiB`;
}

export function formatTable(rows: readonly StoredModel[]): string {
  const header = ["TAG", "SIZE", "LABELS", "CREATED"];
  const body = rows.map((m) => [
    m.tag,
    formatSize(m.size),
    Object.entries(m.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(",") || "-",
    m.creationTime.replace("T", " ").replace(/\.\d+Z$/, "Z"),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  return [header, ...body].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ")).join("\n");
}

function print(value: unknown, format: "json" | "yaml"): void {
  process.stdout.write(format === "json" ? `${JSON.stringify(value, null, 2)}\n` : toYaml(value));
}

export function register(program: Command): void {
  const models = program.command("models").description("Manage the local model store ($BENTOC_HOME, default ~/.bentoc)");

  models
    .command("save")
    .description("Save an ONNX model (a .onnx file, a directory, or several files) as a new version")
    .argument("<paths...>", "a .onnx file, a directory, or files to store side by side")
    .requiredOption("-n, --name <name>", "model name (lowercase letters, digits, '-', '_', '.')")
    .option("--label <key=value>", "label (repeatable)", collect(keyValue("--label")), {})
    .option("--metadata <key=value>", "metadata; values are parsed as JSON when possible (repeatable)", collect(metadataValue), {})
    .option("--signature <spec>", "METHOD:batchable,batchDim=0 (repeatable; default run, not batchable)", collect(parseSignature), undefined)
    .option("--model-file <path>", "which saved file is the ONNX model (default model.onnx or the only .onnx)")
    .option("-q, --quiet", "print only the tag")
    .action(
      action(
        async (
          paths: string[],
          flags: {
            name: string;
            label: Record<string, string>;
            metadata: Record<string, unknown>;
            signature?: Record<string, ModelSignature>;
            modelFile?: string;
            quiet?: boolean;
          },
        ) => {
          const source = paths.length === 1 && paths[0] !== undefined ? paths[0] : paths;
          const saved = await (await openStore()).save(source, {
            name: flags.name,
            labels: flags.label,
            metadata: flags.metadata,
            ...(flags.signature ? { signatures: flags.signature } : {}),
            ...(flags.modelFile ? { modelFile: flags.modelFile } : {}),
          });
          process.stdout.write(
            flags.quiet
              ? `${saved.tag}\n`
              : `saved ${saved.tag} (${formatSize(saved.size)}, ${saved.files.length} file${saved.files.length === 1 ? "" : "s"}) → ${saved.path}\n`,
          );
        },
      ),
    );

  const list = models
    .command("list")
    .alias("ls")
    .description("List models, newest version of each name first; with --remote, the tags of a registry repository")
    .argument("[name]", "only versions of this model name")
    .option("-o, --output <format>", "table, json or yaml", output(["table", "json", "yaml"]), "table")
    .option("--label <key=value>", "only models with this label (repeatable)", collect(keyValue("--label")), {})
    .option("--remote <repository>", "list the tags of this registry repository (HOST[:PORT]/PATH) instead");
  addRegistryFlags(list).action(
    action(async (name: string | undefined, flags: { output: Output; label: Record<string, string>; remote?: string } & RegistryFlags) => {
      if (flags.remote !== undefined) return printRemoteTags(flags.remote, flags);
      const rows = await (await openStore()).list({ ...(name ? { name } : {}), labels: flags.label });
      if (flags.output === "table") process.stdout.write(rows.length === 0 ? "no models\n" : `${formatTable(rows)}\n`);
      else print(rows, flags.output as "json" | "yaml");
    }),
  );

  addRegistryFlags(
    models
      .command("push")
      .description("Push a model to an OCI registry as an artifact (blobs the registry has are not sent again)")
      .argument("<tag>", "model tag (name, name:latest or name:version)")
      .argument("<ref>", "HOST[:PORT]/REPOSITORY[:TAG] (the tag defaults to the model's version)"),
  ).action(
    action(async (tag: string, ref: string, flags: RegistryFlags) => {
      const { pushModel } = await import("../../runtime/registry/model-remote.ts");
      const progress = progressPrinter();
      const started = performance.now();
      try {
        const pushed = await pushModel(await openStore(), tag, ref, remoteOptions(flags, progress.onEvent));
        progress.finish();
        process.stderr.write(`${pushSummary(`model ${pushed.model.tag}`, pushed, performance.now() - started)}\n`);
        process.stdout.write(`${pushed.pinned}\n`);
      } finally {
        progress.finish();
      }
    }),
  );

  addRegistryFlags(
    models
      .command("pull")
      .description("Pull models from an OCI registry into the store (every blob verified; nothing is stored unless all checks pass)")
      .argument("<refs...>", "HOST[:PORT]/REPOSITORY:TAG or HOST[:PORT]/REPOSITORY@sha256:DIGEST (several: pulled one after the other)"),
  ).action(
    action(async (refs: string[], flags: RegistryFlags) => {
      const { pullModel } = await import("../../runtime/registry/model-remote.ts");
      const store = await openStore();
      for (const ref of refs) {
        const progress = progressPrinter();
        const started = performance.now();
        try {
          const pulled = await pullModel(store, ref, remoteOptions(flags, progress.onEvent));
          progress.finish();
          const secs = ((performance.now() - started) / 1000).toFixed(2);
          process.stderr.write(
            pulled.created
              ? `✓ pulled ${pulled.model.tag} (${formatSize(pulled.model.size)}, ${pulled.model.files.length} files) from ${ref} in ${secs} s\n`
              : `✓ already present: ${pulled.model.tag}\n`,
          );
          process.stdout.write(`${pulled.model.tag}\n`);
        } finally {
          progress.finish();
        }
      }
    }),
  );

  models
    .command("get")
    .description("Show a model's record (TAG is name, name:latest or name:version)")
    .argument("<tag>")
    .option("-o, --output <format>", "yaml, json or path (the model directory)", output(["yaml", "json", "path"]), "yaml")
    .action(
      action(async (tag: string, flags: { output: Output }) => {
        const model = await (await openStore()).get(tag);
        if (flags.output === "path") process.stdout.write(`${model.path}\n`);
        else print(model, flags.output as "json" | "yaml");
      }),
    );

  models
    .command("delete")
    .alias("rm")
    .description("Delete one version (name or name:latest deletes the newest)")
    .argument("<tag>")
    .action(
      action(async (tag: string) => {
        const deleted = await (await openStore()).delete(tag);
        process.stdout.write(`deleted ${deleted.tag}\n`);
      }),
    );

  models
    .command("export")
    .description("Write a model and its record to one .tar.gz")
    .argument("<tag>")
    .argument("<file>")
    .action(
      action(async (tag: string, file: string) => {
        const model = await (await openStore()).exportModel(tag, file);
        process.stdout.write(`exported ${model.tag} → ${file}\n`);
      }),
    );

  models
    .command("import")
    .description("Add a model from an archive made by `bentoc models export` (verified before it becomes visible)")
    .argument("<file>")
    .action(
      action(async (file: string) => {
        const model = await (await openStore()).importModel(file);
        process.stdout.write(`imported ${model.tag}\n`);
      }),
    );
}

/** `--remote REPOSITORY`: its tags, one a line (or as JSON/YAML). */
export async function printRemoteTags(repository: string, flags: { output: string } & RegistryFlags): Promise<void> {
  const { listRemoteTags } = await import("../../runtime/registry/model-remote.ts");
  const tags = await listRemoteTags(repository, remoteOptions(flags));
  if (flags.output === "json") process.stdout.write(`${JSON.stringify(tags, null, 2)}\n`);
  else if (flags.output === "yaml") process.stdout.write(toYaml(tags));
  else process.stdout.write(tags.length === 0 ? `no tags in ${repository}\n` : `${tags.map((t) => `${repository}:${t}`).join("\n")}\n`);
}
