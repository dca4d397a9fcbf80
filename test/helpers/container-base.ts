/**
 * What the container tests need around podman/buildah here: which tool is installed, the local base image
 * (scripts/make-test-base-image.sh: host node + its libraries, no registry), a containers.conf that works
 * in a nested, systemd-less environment (runc, cgroupfs, file events), and rlimits runc may set.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { which } from "../../bento/containerize.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const TEST_BASE_IMAGE = "localhost/bentoc-test-base:node20";

/** Why the container tests cannot run here, or null when buildah and podman are installed. */
export function containerToolsMissing(): string | null {
  const missing = ["buildah", "podman"].filter((t) => which(t) === null);
  return missing.length > 0 ? `${missing.join(" and ")} not installed (sudo bash scripts/ci-deps.sh)` : null;
}

/** A containers.conf for podman here: runc, cgroupfs, no systemd, no journald. */
export function containersConf(): string {
  const dir = mkdtempSync(join(tmpdir(), "bentoc-containers-conf-"));
  const file = join(dir, "containers.conf");
  writeFileSync(file, '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n\n[containers]\nlog_driver = "k8s-file"\n');
  return file;
}

/** `--ulimit` flags runc can apply without CAP_SYS_RESOURCE: the current open-files limit, few processes. */
export function ulimitFlags(): string[] {
  const limits = readFileSync("/proc/self/limits", "utf8");
  const files = /Max open files\s+(\d+)\s+(\d+)/.exec(limits);
  const flags = files ? ["--ulimit", `nofile=${files[1]}:${files[2]}`] : [];
  return [...flags, "--ulimit", "nproc=4096:4096"];
}

/** Builds the base image unless it exists (idempotent). */
export function ensureBaseImage(): void {
  execFileSync("bash", [join(ROOT, "scripts", "make-test-base-image.sh"), TEST_BASE_IMAGE], { stdio: "inherit" });
}

/** Runs a podman/buildah command; returns its stdout (throws with stderr on failure). */
export function tool(argv: string[], env: NodeJS.ProcessEnv = process.env): string {
  const [cmd = "", ...args] = argv;
  const r = spawnSync(cmd, args, { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
