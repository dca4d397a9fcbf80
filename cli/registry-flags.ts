/**
 * What every registry command shares: the flags `--authfile`, `--ca-file`, `--insecure`, and the progress
 * of a push or pull on stderr — one updating line with bytes and rate on a terminal, one line per file
 * otherwise (logs, CI).
 */
import type { Command } from "commander";
import type { TransferEvent } from "../runtime/registry/artifact-transfer.ts";
import type { RemoteOptions } from "../runtime/registry/model-remote.ts";

export interface RegistryFlags {
  authfile?: string;
  caFile?: string;
  insecure?: boolean;
}

export function addRegistryFlags(command: Command): Command {
  return command
    .option("--authfile <file>", "registry credentials file (default: REGISTRY_AUTH_FILE, podman's auth.json, ~/.docker/config.json)")
    .option("--ca-file <file>", "PEM CA certificate(s) to trust for this registry (also: certs.d/<host:port>/*.crt, NODE_EXTRA_CA_CERTS)")
    .option("--insecure", "plain HTTP or unverified TLS; only for a registry on localhost, 127.0.0.1 or [::1]");
}

/**
 * The one error line of a registry command: the message, then the error's stable code in brackets when it
 * has one (RegistryError, ModelStoreError, BentoStoreError: `[UNAUTHORIZED]`, `[DIGEST_MISMATCH]`, …;
 * docs/errors.md lists them), for scripts that branch on the kind of failure.
 */
export function errorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code =
    err instanceof Error && ["RegistryError", "ModelStoreError", "BentoStoreError"].includes(err.name) ? (err as Error & { code?: unknown }).code : undefined;
  return `error: ${message}${typeof code === "string" ? ` [${code}]` : ""}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1 << 20) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1 << 30) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  return `${(bytes / (1 << 30)).toFixed(2)} GiB`;
}

function rate(bytes: number, ms: number): string {
  return ms > 0 ? `${formatBytes(Math.round((bytes * 1000) / ms))}/s` : "-";
}

/** A progress listener writing to `out`; `finish()` clears the updating line. */
export function progressPrinter(out: NodeJS.WriteStream = process.stderr): { onEvent: (e: TransferEvent) => void; finish(): void } {
  const tty = out.isTTY === true;
  const started = performance.now();
  let bytes = 0;
  let total = 0;
  let current = "";
  let lastDraw = 0;
  let drawn = false;
  const draw = (force = false) => {
    const now = performance.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const line = `  ${current}  ${formatBytes(bytes)} / ${formatBytes(total)}  ${rate(bytes, now - started)}`;
    out.write(`\r\x1b[2K${line.slice(0, (out.columns ?? 100) - 1)}`);
    drawn = true;
  };
  return {
    onEvent(e) {
      if (e.type === "start") {
        total += e.size;
        current = e.path;
        if (tty) draw(true);
      } else if (e.type === "bytes") {
        bytes += e.bytes;
        if (tty) draw();
      } else if (!tty) {
        out.write(
          `  ${e.outcome.padEnd(10)} ${e.path} (${formatBytes(e.size)}${e.outcome === "uploaded" || e.outcome === "downloaded" ? `, ${(e.ms / 1000).toFixed(2)} s, ${rate(e.size, e.ms)}` : ""})\n`,
        );
      }
    },
    finish() {
      if (tty && drawn) out.write("\r\x1b[2K");
    },
  };
}

/** The runtime options for the flags, with a progress printer attached. */
export function remoteOptions(flags: RegistryFlags, onEvent?: (e: TransferEvent) => void): RemoteOptions {
  return {
    ...(flags.authfile !== undefined ? { authFile: flags.authfile } : {}),
    ...(flags.caFile !== undefined ? { caFile: flags.caFile } : {}),
    ...(flags.insecure === true ? { insecure: true } : {}),
    ...(onEvent ? { onEvent } : {}),
  };
}

/** One summary line of a push. */
export function pushSummary(
  what: string,
  r: { unchanged: boolean; uploaded: number; uploadedBytes: number; mounted: number; existing: number; reference: string; digest: string },
  ms: number,
): string {
  if (r.unchanged) return `✓ ${what} is already at ${r.reference} (${r.digest}); nothing uploaded (${Math.round(ms)} ms)`;
  const parts = [`${r.uploaded} blob${r.uploaded === 1 ? "" : "s"} uploaded (${formatBytes(r.uploadedBytes)})`, `${r.existing} already there`];
  if (r.mounted > 0) parts.push(`${r.mounted} mounted`);
  return `✓ pushed ${what} → ${r.reference} (${r.digest}): ${parts.join(", ")} in ${(ms / 1000).toFixed(2)} s`;
}
