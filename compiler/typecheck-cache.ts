/**
 * The checker's diagnostics of the user's files, kept between the runs of an analysis session
 * (`--watch`). Every run has a new program and so a new checker, which would check every user file again;
 * a file whose diagnostics cannot have changed keeps the previous run's instead. TypeScript keeps the
 * SourceFile object of every file that did not change from one program to the next, so "changed" is
 * "not the same object". A user file's diagnostics are reused when neither it nor any local file it
 * reaches through its imports (`import`, `import type`, `import()`, `export … from`) changed, and no
 * change can reach it another way: a change to a file outside the user's modules (node_modules, lib
 * files, a local declaration file or script), or to one with `declare global` / `declare module "x"`,
 * drops every kept result. Only `--watch` uses it; a one-line edit of the service then checks only the
 * service file and the files that import it.
 */
import type { SourceFile } from "ts-morph";
import type { Diagnostic } from "./diagnostics/diagnostic.ts";
import { isLocalFile } from "./program.ts";
import { ts } from "./ts-morph.ts";

interface Kept {
  /** Local files the file reaches through its imports (itself excluded). */
  deps: readonly string[];
  diagnostics: Diagnostic[];
}

/** A change to this file can change the diagnostics of files that do not import it. */
function affectsOthers(sf: ts.SourceFile): boolean {
  if (!isLocalFile(sf.fileName) || sf.isDeclarationFile || !ts.isExternalModule(sf)) return true;
  return sf.statements.some((s) => ts.isModuleDeclaration(s) && (ts.isStringLiteral(s.name) || (s.flags & ts.NodeFlags.GlobalAugmentation) !== 0));
}

export class TypecheckCache {
  #files = new Map<string, ts.SourceFile>();
  #kept = new Map<string, Kept>();
  /** Files checked again in the last run (for the tests and the bench). */
  lastChecked: string[] = [];

  /**
   * The diagnostics of each of `files` (in order, concatenated), from `check` or kept from the previous
   * run when they cannot have changed.
   */
  diagnostics(program: ts.Program, files: readonly SourceFile[], check: (file: ts.SourceFile) => Diagnostic[]): Diagnostic[] {
    const current = new Map(program.getSourceFiles().map((sf) => [sf.fileName, sf]));
    const changed = new Set<string>();
    let global = false;
    for (const [name, sf] of current) {
      const before = this.#files.get(name);
      if (before === sf) continue;
      changed.add(name);
      global ||= affectsOthers(sf) || (before !== undefined && affectsOthers(before));
    }
    for (const [name, before] of this.#files) {
      if (current.has(name)) continue;
      changed.add(name);
      global ||= affectsOthers(before);
    }
    const previous = global ? new Map<string, Kept>() : this.#kept;
    this.#files = current;
    this.#kept = new Map();
    this.lastChecked = [];
    const out: Diagnostic[] = [];
    for (const file of files) {
      const name = file.getFilePath() as string;
      const deps = localDependencies(file);
      const kept = previous.get(name);
      const reusable = kept !== undefined && !changed.has(name) && kept.deps.every((d) => !changed.has(d)) && sameMembers(kept.deps, deps);
      const diagnostics = reusable ? kept.diagnostics : check(file.compilerNode);
      if (!reusable) this.lastChecked.push(name);
      this.#kept.set(name, { deps, diagnostics });
      out.push(...diagnostics);
    }
    return out;
  }
}

/** Local files reachable from `file` through its module references, sorted. */
function localDependencies(file: SourceFile): string[] {
  const seen = new Set<SourceFile>([file]);
  const queue = [file];
  for (let sf = queue.pop(); sf; sf = queue.pop()) {
    for (const next of sf.getReferencedSourceFiles()) {
      if (seen.has(next) || !isLocalFile(next.getFilePath())) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  seen.delete(file);
  return [...seen].map((sf) => sf.getFilePath() as string).sort();
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
