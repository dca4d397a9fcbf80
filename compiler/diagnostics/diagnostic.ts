/**
 * The Diagnostic value every stage returns (collected, never thrown), and helpers to build one at a node.
 * Lines and columns are 1-based; `file` is absolute.
 */
import { Node, ts } from "../ts-morph.ts";
import { CODES, type Code, type CodeInfo, renderMessage } from "./codes.ts";

export interface Diagnostic {
  code: string;
  severity: "error" | "warning";
  message: string;
  file?: string;
  line?: number;
  column?: number;
  length?: number;
  /** What to do about it (codes with a hint template). */
  hint?: string;
}

export type DiagnosticArgs = Readonly<Record<string, string | number>>;

/** Where a diagnostic points: a ts-morph node, a raw TypeScript node, or nothing (a project-level problem). */
export type Location = Node | ts.Node | undefined;

function rawNode(node: Node | ts.Node): ts.Node {
  return node instanceof Node ? node.compilerNode : node;
}

export function locate(node: Node | ts.Node): Pick<Diagnostic, "file" | "line" | "column" | "length"> {
  const raw = rawNode(node);
  const sf = raw.getSourceFile();
  const start = raw.getStart(sf);
  const { line, character } = sf.getLineAndCharacterOfPosition(start);
  return { file: sf.fileName, line: line + 1, column: character + 1, length: Math.max(0, raw.getEnd() - start) };
}

export function createDiagnostic(code: Code, args: DiagnosticArgs, at?: Location): Diagnostic {
  const info: CodeInfo = CODES[code];
  const diag: Diagnostic = { code, severity: info.severity, message: renderMessage(info.message, args) };
  if (info.hint !== undefined) diag.hint = renderMessage(info.hint, args);
  return at ? { ...diag, ...locate(at) } : diag;
}

/** A TypeScript checker diagnostic as a bentoc Diagnostic, code `TS2322` etc. */
export function fromTsDiagnostic(d: ts.Diagnostic): Diagnostic {
  const diag: Diagnostic = {
    code: `TS${d.code}`,
    severity: d.category === ts.DiagnosticCategory.Error ? "error" : "warning",
    message: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
  };
  if (d.file && d.start !== undefined) {
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    diag.file = d.file.fileName;
    diag.line = line + 1;
    diag.column = character + 1;
    diag.length = d.length ?? 0;
  }
  return diag;
}

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === "error");
}

/** Stable order: by file, line, column, code; project-level diagnostics first. */
export function sortDiagnostics(diags: readonly Diagnostic[]): Diagnostic[] {
  return [...diags].sort(
    (a, b) =>
      (a.file ?? "").localeCompare(b.file ?? "") ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      a.code.localeCompare(b.code) ||
      a.message.localeCompare(b.message),
  );
}
