/**
 * `bentoc push TAG REF`, `bentoc pull REF` (bentos in an OCI registry: runtime/registry/bento-remote.ts) and
 * `bentoc k8s TAG --image REF@sha256:… --out DIR` (the bento's kustomize tree pinned to an image digest:
 * bento/pinned-kubernetes.ts). Errors: one line on stderr, exit code 1.
 */
import type { Command } from "commander";
import { BentoStore } from "../../bento/bento-store.ts";
import { defaultHome } from "../../runtime/models/model-store.ts";
import { addRegistryFlags, errorLine, formatBytes, progressPrinter, pushSummary, type RegistryFlags, remoteOptions } from "../registry-flags.ts";

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

export function register(program: Command): void {
  addRegistryFlags(
    program
      .command("push")
      .description("Push a bento (and the models it carries) to an OCI registry as an artifact")
      .argument("<tag>", "bento tag (name, name:latest or name:version)")
      .argument("<ref>", "HOST[:PORT]/REPOSITORY[:TAG] (the tag defaults to the bento's version)"),
  ).action(
    action(async (tag: string, ref: string, flags: RegistryFlags) => {
      const { pushBento } = await import("../../runtime/registry/bento-remote.ts");
      const progress = progressPrinter();
      const started = performance.now();
      try {
        const pushed = await pushBento(new BentoStore(defaultHome()), tag, ref, remoteOptions(flags, progress.onEvent));
        progress.finish();
        process.stderr.write(`${pushSummary(`bento ${pushed.bento.tag}`, pushed, performance.now() - started)}\n`);
        process.stdout.write(`${pushed.pinned}\n`);
      } finally {
        progress.finish();
      }
    }),
  );

  addRegistryFlags(
    program
      .command("pull")
      .description("Pull a bento from an OCI registry (verified whole, seal included) into the store, and its models into the model store")
      .argument("<ref>", "HOST[:PORT]/REPOSITORY:TAG or HOST[:PORT]/REPOSITORY@sha256:DIGEST"),
  ).action(
    action(async (ref: string, flags: RegistryFlags) => {
      const { pullBento } = await import("../../runtime/registry/bento-remote.ts");
      const progress = progressPrinter();
      const started = performance.now();
      try {
        const { bento, created, modelsImported } = await pullBento(new BentoStore(defaultHome()), ref, remoteOptions(flags, progress.onEvent));
        progress.finish();
        const secs = ((performance.now() - started) / 1000).toFixed(2);
        const models = modelsImported.length > 0 ? `; models added: ${modelsImported.join(", ")}` : "";
        process.stderr.write(
          created
            ? `✓ pulled ${bento.tag} (${bento.files.length} files, ${formatBytes(bento.size)}) from ${ref} in ${secs} s${models}\n`
            : `✓ already present: ${bento.tag}\n`,
        );
        process.stdout.write(`${bento.tag}\n`);
      } finally {
        progress.finish();
      }
    }),
  );

  program
    .command("k8s")
    .description("Write a bento's Kubernetes (kustomize) tree with every overlay's image pinned by digest, to a new directory")
    .argument("<tag>", "bento tag (name, name:latest or name:version)")
    .requiredOption("--image <ref>", "the image by digest: HOST[:PORT]/REPOSITORY@sha256:… (as `containerize --push` prints it)")
    .requiredOption("--out <dir>", "directory to write (must not exist, or be empty)")
    .option(
      "--models-from <repository>",
      "pull the models at pod start (an init container running `bentoc models pull`) from HOST[:PORT]/PATH/<model name>, by digest, instead of from the image",
    )
    .action(
      action(async (tag: string, flags: { image: string; out: string; modelsFrom?: string }) => {
        const { pinnedKubernetes, writeTree, modelReferences } = await import("../../bento/pinned-kubernetes.ts");
        const store = new BentoStore(defaultHome());
        const bento = await store.get(tag);
        await store.verify(bento);
        const files = await pinnedKubernetes(bento, flags.image, flags.modelsFrom !== undefined ? { modelsFrom: flags.modelsFrom } : {});
        await writeTree(files, flags.out);
        process.stderr.write(`✓ wrote ${Object.keys(files).length} files of ${bento.tag}'s kustomize tree pinned to ${flags.image} → ${flags.out}\n`);
        if (flags.modelsFrom !== undefined) {
          const refs = await modelReferences(bento, flags.modelsFrom);
          process.stderr.write(
            `  models pulled at pod start (push them first: bentoc models push TAG ${flags.modelsFrom.replace(/\/+$/, "")}/NAME):\n${refs.map((r) => `    ${r.tag} → ${r.ref}\n`).join("")}`,
          );
        }
        process.stderr.write(`  kubectl apply -k ${flags.out}/overlays/monolith\n`);
      }),
    );
}
