/**
 * What `depends()` gives a service: the `RunnerHandle` type (only the batch methods, as batch calls that
 * return promises and take RunnerCallOptions) and BC1024 for any other member reached through the handle,
 * which holds without the type checker (`--no-typecheck`) too.
 */
import { describe, expect, it } from "vitest";
import { analyzeSource } from "./memory-project.ts";

const RUNNER = `
import { api, batchable, depends, runner, service, type RunnerCallOptions } from "bentoc";

@runner({ name: "scorer" })
export class Scorer {
  threshold = 0.5;
  @batchable()
  score(texts: string[]): number[] {
    return texts.map((t) => t.length);
  }
  async explain(texts: string[]): Promise<string[]> {
    return texts;
  }
  describe(text: string): string {
    return text;
  }
}
`;

function service(body: string): string {
  return `${RUNNER}
@service({ name: "scoring" })
export class Scoring {
  readonly scorer = depends(Scorer);

  @api()
  async run(text: string): Promise<number> {
${body}
  }
}
`;
}

const codes = (text: string, typecheck: boolean) => analyzeSource(text, { typecheck }).diagnostics.map((d) => `${d.code} ${d.message.split(":")[0]}`);

describe("depends() handles", () => {
  it("types a batch method as (items, options?) => Promise<results>, even when the method is synchronous", () => {
    const ok = service(`
    const options: RunnerCallOptions = { deadline: Date.now() + 100, signal: AbortSignal.timeout(100) };
    const pending: Promise<number[]> = this.scorer.score([text], options);
    const [n] = await pending;
    return n ?? 0;`);
    expect(codes(ok, true)).toEqual([]);
  });

  it("a synchronous result, a wrong item type and an extra argument are type errors", () => {
    const bad = service(`
    const now: number[] = this.scorer.score([text]);
    await this.scorer.score([1]);
    await this.scorer.score([text], {}, 1);
    return now.length;`);
    expect(analyzeSource(bad, { typecheck: true }).diagnostics.map((d) => d.code)).toEqual(["TS2740", "TS2322", "TS2554"]);
  });

  it("fields and methods of other shapes are TS2339 and BC1024; an undecorated batch-shaped method only BC1024", () => {
    const text = service(`
    const [why] = await this.scorer.explain([text]);
    const d = this.scorer.describe(text);
    return this.scorer.threshold + (why ?? d).length;`);
    const withTypes = analyzeSource(text, { typecheck: true }).diagnostics;
    expect(withTypes.map((d) => [d.code, d.line])).toEqual([
      ["BC1024", 26],
      ["BC1024", 27],
      ["TS2339", 27],
      ["BC1024", 28],
      ["TS2339", 28],
    ]);
    expect(withTypes.map((d) => d.hint ?? "")).toEqual([
      "Decorate Scorer.explain with @batchable to call it through the handle, or do this work in a @batchable method.",
      "Only @batchable methods (an array of items in, one result per item out) can be called through depends(); call describe inside one.",
      "",
      "A runner's fields stay in the runner (it may run in another process): return what the service needs from a @batchable method.",
      "",
    ]);
    expect(codes(text, false)).toEqual([
      "BC1024 'explain' is not a @batchable method of runner Scorer",
      "BC1024 'describe' is not a @batchable method of runner Scorer",
      "BC1024 'threshold' is not a @batchable method of runner Scorer",
    ]);
  });

  it('an element access by a literal name is checked like a property: this.scorer["explain"]', () => {
    const text = service(`
    const [why] = await this.scorer["explain"]([text]);
    return (why ?? "").length;`);
    expect(codes(text, false)).toEqual(["BC1024 'explain' is not a @batchable method of runner Scorer"]);
  });
});
