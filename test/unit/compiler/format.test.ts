import { describe, expect, it } from "vitest";
import { kebabCase } from "../../../compiler/analyze/names.ts";
import { CODES, renderMessage } from "../../../compiler/diagnostics/codes.ts";
import { createDiagnostic, type Diagnostic } from "../../../compiler/diagnostics/diagnostic.ts";
import { formatDiagnostics, formatDiagnosticsJson } from "../../../compiler/diagnostics/format.ts";
import { addSource, project } from "./memory-project.ts";

const readFile = (path: string) => project.getSourceFile(path)?.getFullText();

describe("diagnostics", () => {
  it("every code has a severity matching its range and a message", () => {
    for (const [code, info] of Object.entries(CODES)) {
      expect(code).toMatch(/^BC[12]\d{3}$/);
      expect(info.severity).toBe(code.startsWith("BC1") ? "error" : "warning");
      expect(info.message.length).toBeGreaterThan(10);
    }
    expect(renderMessage("a {x} b {y}", { x: 1 })).toBe("a 1 b {y}");
  });

  it("prints like tsc with a code frame and ~~~ underline", () => {
    const sf = addSource('const a = 1;\nconst route = "/price";\nconst c = 3;\n', "/repo/src/frame.ts");
    const node = sf.getVariableDeclarationOrThrow("route").getInitializerOrThrow();
    const d = createDiagnostic("BC1004", { method: "POST", route: "/price", other: "price" }, node);
    expect(d).toMatchObject({ file: "/repo/src/frame.ts", line: 2, column: 15, length: 8 });
    const text = formatDiagnostics([d], { cwd: "/repo", color: false, readFile });
    expect(text).toBe(
      [
        "src/frame.ts:2:15 - error BC1004: Duplicate route POST /price: already used by API 'price'.",
        "",
        "1 const a = 1;",
        '2 const route = "/price";',
        "                ~~~~~~~~",
        "3 const c = 3;",
        "",
        "Found 1 error.",
      ].join("\n"),
    );
    const colored = formatDiagnostics([d], { cwd: "/repo", color: true, readFile });
    expect(colored).toContain("\u001b[31merror\u001b[0m");
  });

  it("project-level diagnostics print without a frame; JSON has relative paths", () => {
    const diags: Diagnostic[] = [
      createDiagnostic("BC1001", { entry: "svc.ts" }),
      {
        code: "TS2322",
        severity: "error",
        message: "Type 'string' is not assignable to type 'number'.",
        file: "/repo/src/a.ts",
        line: 3,
        column: 5,
        length: 1,
      },
      { code: "BC2001", severity: "warning", message: "unused", file: "/repo/src/a.ts", line: 1, column: 1, length: 1 },
    ];
    const text = formatDiagnostics(diags, { cwd: "/repo", color: false, readFile: () => undefined });
    expect(text.split("\n")).toEqual([
      "error BC1001: No class decorated with @service was found in 'svc.ts'.",
      "src/a.ts:3:5 - error TS2322: Type 'string' is not assignable to type 'number'.",
      "src/a.ts:1:1 - warning BC2001: unused",
      "Found 2 errors and 1 warning.",
    ]);
    const json = JSON.parse(formatDiagnosticsJson(diags, "/repo")) as Diagnostic[];
    expect(json.map((d) => d.file)).toEqual([undefined, "src/a.ts", "src/a.ts"]);
  });

  it("kebab-case default names", () => {
    expect(["SupportTickets", "classifyText", "OCRService", "tabular", "HTTPServer2"].map(kebabCase)).toEqual([
      "support-tickets",
      "classify-text",
      "ocr-service",
      "tabular",
      "http-server2",
    ]);
  });
});
