/**
 * Bentos from the command line: `bentoc build [dir] [-f bentofile.yaml]`, `list`, `get`, `delete`,
 * `export`, `import` and `containerize`. Thin wiring: the work is in bento/ (the compiler is
 * passed in, since the runtime never imports it). Errors: one message on stderr, exit code 1.
 */

import { mkdtempSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { stringify as toYaml } from "yaml";
import { exportBento, importBento } from "../../bento/bento-archive.ts";
import { BentoStore, type StoredBento } from "../../bento/bento-store.ts";
import { findBentofile } from "../../bento/bentofile.ts";
import { type BentoCompiler, buildBento } from "../../bento/build-bento.ts";
import {
  BACKENDS,
  type Backend,
  type ContainerizeOptions,
  containerfileWithoutModels,
  containerizeCommand,
  findBackend,
  runStreaming,
  shellQuote,
} from "../../bento/containerize.ts";
import { defaultHome } from "../../runtime/models/model-store.ts";
import { readModelCatalogue } from "../model-catalogue.ts";
import { addRegistryFlags, errorLine, type RegistryFlags, remoteOptions } from "../registry-flags.ts";
import { formatSize, printRemoteTags } from "./models.ts";

type Output = "table" | "json" | "yaml" | "path";

function output(allowed: readonly Output[]) {
  return (value: string): Output => {
    if (!(allowed as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${allowed.join(", ")}`);
    return value as Output;
  };
}

function action<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await fn(...args);
    } catch (err) {
      process.stderr.write(`${errorLine(err)}\n`);
      process.exitCode = 1;
    }
  };
}

/**
 * The compiler as `build` needs it: compile with the bundle, and emit from a (pinned) manifest. Loaded on
 * use, so the other commands start without ts-morph.
 */
export async function bentoCompiler(cwd: string = process.cwd()): Promise<BentoCompiler> {
  const [{ compile }, { formatDiagnostics }, { emitFromManifest }] = await Promise.all([
    import("../../compiler/compile.ts"),
    import("../../compiler/diagnostics/format.ts"),
    import("../../compiler/emit/emit-all.ts"),
  ]);
  return {
    async compile(entry, outDir, home) {
      // a bento carries its models: a tag missing from the store is an error here (BC1026), with its location
      const result = await compile({ entry, outDir, bundle: true, typecheck: true, models: await readModelCatalogue(home, "error") });
      return {
        manifest: result.manifest,
        diagnostics: result.diagnostics.length > 0 ? formatDiagnostics(result.diagnostics, { cwd, color: false }) : "",
        files: result.files,
      };
    },
    emit: (manifest, containerfile, image) => emitFromManifest(manifest, image === undefined ? { containerfile } : { containerfile, image }),
  };
}

/** Public view of a bento for `get`/`list` output (no per-file list unless asked). */
function summary(b: StoredBento): Record<string, unknown> {
  return {
    tag: b.tag,
    name: b.name,
    version: b.version,
    service: b.service,
    ...(b.description !== undefined ? { description: b.description } : {}),
    labels: b.labels,
    models: b.models,
    packages: b.packages,
    size: b.size,
    created: b.created,
    path: b.path,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n")}\n`;
}

function parseBuildArg(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, got ${JSON.stringify(value)}`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function register(program: Command): void {
  program
    .command("build")
    .description("Build a bento (service bundle + generated files + models + locked dependencies) into $BENTOC_HOME/bentos")
    .argument("[dir]", "build directory holding bentofile.yaml (or service.ts)", ".")
    .option("-f, --bentofile <file>", "bentofile, relative to dir (default bentofile.yaml)")
    .option("-o, --output <format>", "what to print on success: tag, path, json", "tag")
    .action(
      action(async (dir: string, flags: { bentofile?: string; output: string }) => {
        const bentofile = findBentofile(resolve(dir), flags.bentofile);
        const started = performance.now();
        const { bento, created } = await buildBento({
          bentofile,
          compiler: await bentoCompiler(),
          home: defaultHome(),
          log: (line) => process.stderr.write(`  ${line}\n`),
        });
        const ms = Math.round(performance.now() - started);
        if (flags.output === "json") process.stdout.write(`${JSON.stringify({ ...summary(bento), created })}\n`);
        else if (flags.output === "path") process.stdout.write(`${bento.path}\n`);
        else {
          process.stderr.write(
            `✓ ${created ? "built" : "unchanged:"} ${bento.tag} (${bento.files.length} files, ${formatSize(bento.size)}) in ${ms} ms → ${bento.path}\n`,
          );
          process.stdout.write(`${bento.tag}\n`);
        }
      }),
    );

  addRegistryFlags(
    program
      .command("list")
      .description("List the bentos in $BENTOC_HOME/bentos, newest first per name; with --remote, the tags of a registry repository")
      .argument("[name]", "only this bento name")
      .option("-o, --output <format>", "table, json or yaml", output(["table", "json", "yaml"]), "table")
      .option("--remote <repository>", "list the tags of this registry repository (HOST[:PORT]/PATH) instead"),
  ).action(
    action(async (name: string | undefined, flags: { output: Output; remote?: string } & RegistryFlags) => {
      if (flags.remote !== undefined) return printRemoteTags(flags.remote, flags);
      const bentos = await new BentoStore(defaultHome()).list(name);
      if (flags.output === "json") return void process.stdout.write(`${JSON.stringify(bentos.map(summary), null, 2)}\n`);
      if (flags.output === "yaml") return void process.stdout.write(toYaml(bentos.map(summary)));
      if (bentos.length === 0) return void process.stdout.write(`no bentos in ${defaultHome()}/bentos; build one with \`bentoc build\`\n`);
      const rows = [["TAG", "SERVICE", "MODELS", "SIZE", "CREATED"]];
      for (const b of bentos)
        rows.push([b.tag, `${b.service.name} ${b.service.version}`, b.models.join(",") || "-", formatSize(b.size), b.created.replace(/\.\d+Z$/, "Z")]);
      process.stdout.write(table(rows));
    }),
  );

  program
    .command("get")
    .description("Show one bento (name, name:latest or name:version)")
    .argument("<tag>")
    .option("-o, --output <format>", "yaml, json or path", output(["json", "yaml", "path"]), "yaml")
    .action(
      action(async (tag: string, flags: { output: Output }) => {
        const bento = await new BentoStore(defaultHome()).get(tag);
        if (flags.output === "path") process.stdout.write(`${bento.path}\n`);
        else if (flags.output === "json") process.stdout.write(`${JSON.stringify({ ...summary(bento), files: bento.files }, null, 2)}\n`);
        else process.stdout.write(toYaml({ ...summary(bento), files: bento.files }));
      }),
    );

  program
    .command("delete")
    .description("Delete a bento version (name or name:latest deletes the newest)")
    .argument("<tag>")
    .action(
      action(async (tag: string) => {
        const bento = await new BentoStore(defaultHome()).delete(tag);
        process.stdout.write(`deleted ${bento.tag}\n`);
      }),
    );

  program
    .command("export")
    .description("Write a bento and the models it carries as one .tar.gz")
    .argument("<tag>")
    .argument("<file>")
    .action(
      action(async (tag: string, file: string) => {
        const bento = await exportBento(new BentoStore(defaultHome()), tag, file);
        process.stdout.write(`exported ${bento.tag} (${bento.models.length} model${bento.models.length === 1 ? "" : "s"}) → ${file}\n`);
      }),
    );

  program
    .command("import")
    .description("Add a bento from an archive made by `bentoc export` (verified), and its models to the model store")
    .argument("<file>")
    .action(
      action(async (file: string) => {
        const { bento, created, modelsImported } = await importBento(new BentoStore(defaultHome()), file);
        const models = modelsImported.length > 0 ? `; models added: ${modelsImported.join(", ")}` : "";
        process.stdout.write(`${created ? "imported" : "already present:"} ${bento.tag}${models}\n`);
      }),
    );

  const containerize = program
    .command("containerize")
    .description("Build an OCI image of a bento with podman, buildah or docker (layers cached: deps → models → code)")
    .argument("<tag>", "bento tag (name, name:latest or name:version)")
    .option("-t, --image <image>", "image tag (default <name>:<version>)")
    .option("--backend <backend>", `one of ${BACKENDS.join(", ")} (default: the first installed)`)
    .option("--build-arg <K=V>", "build argument, repeatable (e.g. BASE_IMAGE=localhost/node:20)", parseBuildArg, {})
    .option("--dry-run", "print the command instead of running it")
    .option(
      "--without-models",
      "leave the models out of the image (tag default <name>:<version>-no-models): the pods pull them at start, see bentoc k8s --models-from",
    )
    .option("--push <ref>", "then push the image to HOST[:PORT]/REPOSITORY[:TAG] (tag default: the bento version, +-no-models) and print its digest");
  addRegistryFlags(containerize).action(
    action(
      async (
        tag: string,
        flags: { image?: string; backend?: string; buildArg: Record<string, string>; dryRun?: boolean; withoutModels?: boolean; push?: string } & RegistryFlags,
      ) => {
        if (flags.backend !== undefined && !(BACKENDS as readonly string[]).includes(flags.backend)) {
          throw new Error(`--backend must be one of ${BACKENDS.join(", ")}, not ${flags.backend}`);
        }
        const bento = await new BentoStore(defaultHome()).get(tag);
        const image = flags.image ?? `${bento.name}:${bento.version}${flags.withoutModels ? "-no-models" : ""}`;
        const options: ContainerizeOptions = { context: bento.path, image, buildArgs: flags.buildArg };
        if (flags.withoutModels) {
          // the bento is sealed: the derived Containerfile goes to a temp dir (kept for --dry-run, which prints it)
          const text = containerfileWithoutModels(await readFile(join(bento.path, "Containerfile"), "utf8"));
          options.containerfile = join(mkdtempSync(join(tmpdir(), "bentoc-containerfile-")), "Containerfile");
          writeFileSync(options.containerfile, text);
        }
        const backend = findBackend(flags.backend as Backend | undefined);
        if (!backend) {
          const wanted = flags.backend ?? BACKENDS.join(", ");
          process.stderr.write(`no container tool found (looked for ${wanted} on PATH).\nbuild context: ${bento.path}\nrun one of:\n`);
          for (const b of flags.backend ? [flags.backend as Backend] : BACKENDS) process.stdout.write(`  ${shellQuote(containerizeCommand(b, options))}\n`);
          process.exitCode = 1;
          return;
        }
        const argv = containerizeCommand(backend, options);
        process.stderr.write(`$ ${shellQuote(argv)}\n`);
        if (flags.dryRun) return;
        const code = await runStreaming(argv);
        if (code !== 0) throw new Error(`${backend} exited with code ${code}`);
        process.stderr.write(`✓ image ${image} built from ${bento.tag}\n`);
        if (flags.push === undefined) return void process.stdout.write(`${image}\n`);
        const { pinned, kustomizeEntry } = await pushImage(
          backend,
          image,
          flags.push,
          bento,
          flags.withoutModels ? `${bento.version}-no-models` : bento.version,
          flags,
        );
        process.stderr.write(
          `✓ pushed ${image} → ${pinned}\n  kustomize images: entry (or: bentoc k8s ${bento.tag} --image ${pinned} --out DIR):\n${kustomizeEntry.replace(/^/gm, "    ")}`,
        );
        process.stdout.write(`${pinned}\n`);
      },
    ),
  );
}

/** `containerize --push`: the tool's push, its digest, and the image pinned by digest. */
async function pushImage(
  backend: Backend,
  image: string,
  ref: string,
  bento: StoredBento,
  defaultTag: string,
  flags: RegistryFlags,
): Promise<{ pinned: string; kustomizeEntry: string }> {
  const { planImagePush, pushedDigest, pinnedImage } = await import("../../runtime/registry/image-push.ts");
  const plan = planImagePush(backend, image, ref, defaultTag, remoteOptions(flags));
  try {
    let output = "";
    for (const argv of plan.commands) {
      process.stderr.write(`$ ${shellQuote(argv)}\n`);
      const code = await runStreaming(argv, (chunk) => {
        output += chunk;
        process.stderr.write(chunk);
      });
      if (code !== 0) throw new Error(`${argv[0]} ${argv[1]} exited with code ${code}`);
    }
    const digest = pushedDigest(plan, output);
    const pinned = pinnedImage(plan.target, digest);
    const kustomizeEntry = toYaml({ images: [{ name: bento.service.name, newName: `${plan.target.registry}/${plan.target.repository}`, digest }] });
    return { pinned, kustomizeEntry };
  } finally {
    plan.cleanup();
  }
}
