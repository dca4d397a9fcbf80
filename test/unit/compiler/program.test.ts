/**
 * createProjectForEntry parses Node's declarations without JSDoc (a cold-compile optimisation that reaches
 * into ts-morph's document registry): it must be in effect, leave the user's JSDoc alone, and not change
 * the checker's diagnostics.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createProjectForEntry } from "../../../compiler/program.ts";
import { Project, ts } from "../../../compiler/ts-morph.ts";

const DIR = resolve(import.meta.dirname, "../../fixtures/compiler", `.program-${process.pid}`);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const SOURCE = `import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** A documented input. */
export interface Input {
  /** The text. */
  text: string;
}

export async function f(input: Input): Promise<string> {
  const port: number = process.env.PORT;
  const data = await readFile(42);
  const h = createHash("sha256").update(data).digest("nope");
  const m: IncomingMessage = "x";
  setTimeout(() => {}, "10");
  Buffer.from(1, 2, 3, 4);
  return h + port + m + input.text;
}
`;

function diagnosticsOf(project: Project, file: string): string[] {
  const program = project.getProgram().compilerObject;
  const sf = program.getSourceFile(file)!;
  return program.getSemanticDiagnostics(sf).map((d) => `${d.start}:${d.code}:${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
}

describe("createProjectForEntry", () => {
  mkdirSync(DIR, { recursive: true });
  const entry = join(DIR, "service.ts");
  writeFileSync(entry, SOURCE);

  /** `jsDocParsingMode` is set on source files at run time but not declared on `ts.SourceFile`. */
  const modeOf = (sf: object): number | undefined => (sf as { jsDocParsingMode?: number }).jsDocParsingMode;

  it("parses @types/node without JSDoc and the user's files with it, with the same diagnostics", () => {
    const project = createProjectForEntry(entry);
    const program = project.getProgram().compilerObject;
    const nodeFiles = program.getSourceFiles().filter((sf) => sf.fileName.includes("/node_modules/@types/node/"));
    expect(nodeFiles.length).toBeGreaterThan(10);
    for (const sf of nodeFiles) expect(modeOf(sf)).toBe(ts.JSDocParsingMode.ParseNone);
    const user = project.getSourceFileOrThrow(entry);
    expect(modeOf(user.compilerNode) ?? ts.JSDocParsingMode.ParseAll).toBe(ts.JSDocParsingMode.ParseAll);
    expect(user.getInterfaceOrThrow("Input").getJsDocs()[0]?.getDescription().trim()).toBe("A documented input.");

    const withJsDoc = new Project({
      tsConfigFilePath: resolve(import.meta.dirname, "../../../tsconfig.json"),
      skipAddingFilesFromTsConfig: true,
      compilerOptions: project.getCompilerOptions(),
    });
    withJsDoc.addSourceFileAtPath(entry);
    const expected = diagnosticsOf(withJsDoc, entry);
    const fullNodeFile = withJsDoc
      .getProgram()
      .compilerObject.getSourceFiles()
      .find((sf) => sf.fileName.endsWith("/@types/node/fs.d.ts"));
    expect(fullNodeFile && modeOf(fullNodeFile)).toBe(ts.JSDocParsingMode.ParseAll);
    expect(expected.length).toBeGreaterThanOrEqual(6);
    expect(diagnosticsOf(project, entry)).toEqual(expected);
  });
});
