/**
 * `bentoc containerize`: the image build command for a bento (its directory is the build context), with
 * the first container tool found (podman, buildah, docker) or the one named, run with its output streamed.
 * Layer caching is on, so a code-only change rebuilds only the code layer.
 */
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export const BACKENDS = ["podman", "buildah", "docker"] as const;
export type Backend = (typeof BACKENDS)[number];

/** The absolute path of an executable on PATH, or null. */
export function which(command: string, path: string = process.env["PATH"] ?? ""): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const full = join(dir, command);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  return null;
}

/** The backend to use: `preferred` when it is installed, else the first of BACKENDS on PATH, else null. */
export function findBackend(preferred?: Backend, path?: string): Backend | null {
  if (preferred !== undefined) return which(preferred, path) ? preferred : null;
  return BACKENDS.find((b) => which(b, path) !== null) ?? null;
}

export interface ContainerizeOptions {
  /** The bento directory (build context, holding the Containerfile). */
  context: string;
  /** Another Containerfile than the bento's (`--without-models`); the context stays the bento. */
  containerfile?: string;
  image: string;
  buildArgs: Record<string, string>;
}

/** `K=V` pairs in a stable order. */
function buildArgFlags(args: Record<string, string>): string[] {
  return Object.keys(args)
    .sort()
    .flatMap((k) => ["--build-arg", `${k}=${args[k] ?? ""}`]);
}

/** What buildah and podman both build with: no namespaces of their own (chroot), the host's network, cached layers, Docker format. */
const OCI_BUILD_FLAGS = ["--isolation", "chroot", "--network", "host", "--layers", "--format", "docker"];

/**
 * argv of the build. A BASE_IMAGE under `localhost/` exists only locally: never try to pull it.
 * buildah/podman: chroot isolation and host network (works unprivileged and in nested containers),
 * Docker-format images (so HEALTHCHECK is kept), `--layers` for the cache.
 */
export function containerizeCommand(backend: Backend, options: ContainerizeOptions): string[] {
  const local = (options.buildArgs["BASE_IMAGE"] ?? "").startsWith("localhost/");
  const common = ["-f", options.containerfile ?? join(options.context, "Containerfile"), "-t", options.image, ...buildArgFlags(options.buildArgs)];
  switch (backend) {
    case "buildah":
      return ["buildah", "bud", ...OCI_BUILD_FLAGS, ...(local ? ["--pull-never"] : []), ...common, options.context];
    case "podman":
      return ["podman", "build", ...OCI_BUILD_FLAGS, ...(local ? ["--pull=never"] : []), ...common, options.context];
    case "docker":
      return ["docker", "build", "--network", "host", ...common, options.context];
  }
}

/**
 * The bento's Containerfile without its models layer (`containerize --without-models`): the image then
 * has no `/bento/models`, and the pod gets the models at start (`bentoc k8s --models-from`: an init
 * container pulls them into an emptyDir mounted there). Throws when the Containerfile has no models layer.
 */
export function containerfileWithoutModels(text: string): string {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => /^COPY models\/ /.test(l));
  if (at < 0) throw new Error("this bento's Containerfile has no models layer (COPY models/): it carries no model, so --without-models changes nothing");
  lines[at] = "# (--without-models: no models layer; the pod pulls them into /bento/models at start)";
  return lines.join("\n");
}

/** A shell-safe rendering of argv, for printing. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

/** Runs argv with stdout/stderr passed through (or to `onOutput`); resolves to the exit code. */
export function runStreaming(argv: readonly string[], onOutput?: (chunk: string, stream: "stdout" | "stderr") => void): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const [cmd = "", ...args] = argv;
    const child = spawn(cmd, args, { stdio: onOutput ? ["ignore", "pipe", "pipe"] : "inherit" });
    if (onOutput) {
      child.stdout?.setEncoding("utf8").on("data", (c: string) => onOutput(c, "stdout"));
      child.stderr?.setEncoding("utf8").on("data", (c: string) => onOutput(c, "stderr"));
    }
    child.on("error", reject);
    child.on("close", (code, signal) => resolvePromise(code ?? (signal ? 128 : 1)));
  });
}
