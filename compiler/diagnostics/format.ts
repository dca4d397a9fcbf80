/**
 * Printing diagnostics the way tsc does (`path:line:col - error BC1003: message` and a code frame), and
 * as JSON for tools (`--format json`), with paths relative to the working directory.
 */
import { readFileSync } from "node:fs";
import { relative, sep } from "node:path";
import type { Diagnostic } from "./diagnostic.ts";

export interface FormatOptions {
  cwd: string;
  color: boolean;
  /** Where source text comes from (defaults to the disk); return undefined when unknown. */
  readFile?: (path: string) => string | undefined;
}

const ansi = { red: 31, yellow: 33, cyan: 36, grey: 90, reverse: 7 } as const;

function paint(on: boolean, color: keyof typeof ansi, text: string): string {
  return on ? `\u001b[${ansi[color]}m${text}\u001b[0m` : text;
}

export function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return (rel === "" ? file : rel).split(sep).join("/");
}

function readFromDisk(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The line before, the line itself and the line after, with a `~~~` underline under the span. */
export function codeFrame(text: string, d: Diagnostic, color: boolean): string {
  if (d.line === undefined || d.column === undefined) return "";
  const lines = text.split(/\r?\n/);
  const target = d.line - 1;
  if (target < 0 || target >= lines.length) return "";
  const first = Math.max(0, target - 1);
  const last = Math.min(lines.length - 1, target + 1);
  const width = String(last + 1).length;
  const out: string[] = [];
  for (let i = first; i <= last; i++) {
    const src = lines[i] ?? "";
    out.push(`${paint(color, "reverse", String(i + 1).padStart(width))} ${src}`);
    if (i === target) {
      const start = d.column - 1;
      const span = Math.max(1, Math.min(d.length ?? 1, src.length - start));
      const underline = " ".repeat(start) + "~".repeat(span);
      out.push(`${paint(color, "reverse", " ".repeat(width))} ${paint(color, d.severity === "error" ? "red" : "yellow", underline)}`);
    }
  }
  return out.join("\n");
}

export function formatDiagnostic(d: Diagnostic, options: FormatOptions): string {
  const { color } = options;
  const where = d.file
    ? `${paint(color, "cyan", displayPath(d.file, options.cwd))}${d.line !== undefined ? `:${paint(color, "yellow", String(d.line))}:${paint(color, "yellow", String(d.column ?? 1))}` : ""} - `
    : "";
  const head = `${where}${paint(color, d.severity === "error" ? "red" : "yellow", d.severity)} ${paint(color, "grey", `${d.code}:`)} ${d.message}`;
  const hint = d.hint === undefined ? "" : `\n${paint(color, "cyan", "hint:")} ${d.hint}`;
  if (!d.file) return `${head}${hint}`;
  const text = (options.readFile ?? readFromDisk)(d.file);
  const frame = text === undefined ? "" : codeFrame(text, d, color);
  return frame ? `${head}\n\n${frame}\n${hint ? `${hint.slice(1)}\n` : ""}` : `${head}${hint}`;
}

export function formatDiagnostics(diags: readonly Diagnostic[], options: FormatOptions): string {
  if (diags.length === 0) return "";
  const body = diags.map((d) => formatDiagnostic(d, options)).join("\n");
  const errors = diags.filter((d) => d.severity === "error").length;
  const warnings = diags.length - errors;
  const parts = [`${errors} error${errors === 1 ? "" : "s"}`];
  if (warnings) parts.push(`${warnings} warning${warnings === 1 ? "" : "s"}`);
  return `${body}\nFound ${parts.join(" and ")}.`;
}

/** JSON array of diagnostics with `file` relative to `cwd` (forward slashes); a string, ready to print. */
export function formatDiagnosticsJson(diags: readonly Diagnostic[], cwd: string): string {
  return JSON.stringify(diags.map((d) => (d.file ? { ...d, file: displayPath(d.file, cwd) } : d)));
}
