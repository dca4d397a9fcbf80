/**
 * Which API methods may call a runner (the manifest's `callsRunners`): the runtime enters the request's
 * call scope only for those. Conservative: "yes" whenever the source leaves room for it.
 */
import { describe, expect, it } from "vitest";
import { analyzeSource } from "./memory-project.ts";

function reach(body: string, options: { base?: string } = {}): Record<string, boolean> {
  const result = analyzeSource(`
import { api, batchable, depends, runner, service } from "bentoc";
@runner({ name: "scorer" })
export class Scorer {
  @batchable() async score(xs: string[]): Promise<number[]> { return xs.map((x) => x.length); }
}
class Pipeline { constructor(readonly s: unknown) {} run(): number { return 1; } }
declare function use(x: unknown): number;
${options.base ?? ""}
@service({ name: "svc" })
export class Svc ${options.base ? "extends Base " : ""}{
  readonly scorer = depends(Scorer);
${body}
}`);
  const manifest = result.manifest;
  if (!manifest) throw new Error(JSON.stringify(result.diagnostics.map((d) => d.message)));
  return Object.fromEntries(manifest.service.apis.map((a) => [a.name, a.callsRunners]));
}

describe("callsRunners", () => {
  it("is true for a method that uses a runner field, directly or after any await, and false for one that cannot", () => {
    expect(
      reach(`
  @api() async direct(x: string): Promise<number> { return (await this.scorer.score([x]))[0] ?? 0; }
  @api() async later(x: string): Promise<number> { await Promise.resolve(); const s = this.scorer; return (await s.score([x]))[0] ?? 0; }
  @api() async pure(x: string): Promise<number> { return x.length + this.offset; }
  offset = 1;`),
    ).toEqual({ direct: true, later: true, pure: false });
  });

  it("follows this.helper() calls and getters, transitively", () => {
    expect(
      reach(`
  @api() async viaHelper(x: string): Promise<number> { return this.helper(x); }
  @api() async viaGetter(x: string): Promise<number> { return this.count + x.length; }
  @api() async viaPureHelper(x: string): Promise<number> { return this.twice(x); }
  private async helper(x: string): Promise<number> { return this.deeper(x); }
  private async deeper(x: string): Promise<number> { return (await this.scorer.score([x]))[0] ?? 0; }
  get count(): number { return this.scorer ? 1 : 0; }
  private twice(x: string): number { return x.length * 2; }`),
    ).toEqual({ viaHelper: true, viaGetter: true, viaPureHelper: false });
  });

  it("counts fields built from this, this passed or aliased as a value", () => {
    expect(
      reach(`
  pipeline!: Pipeline;
  cache = new Map<string, number>();
  async setup(): Promise<void> { this.pipeline = new Pipeline(this.scorer); }
  @api() async built(): Promise<number> { return this.pipeline.run(); }
  @api() async passed(): Promise<number> { return use(this); }
  @api() async aliased(): Promise<number> { const self = this; return use(self); }
  @api() async cached(x: string): Promise<number> { return this.cache.get(x) ?? 0; }`),
    ).toEqual({ built: true, passed: true, aliased: true, cached: false });
  });

  it("assumes an inherited member or super may reach a runner", () => {
    expect(
      reach(
        `
  @api() async inherited(x: string): Promise<number> { return this.fromBase(x); }
  @api() async viaSuper(x: string): Promise<number> { return super.fromBase(x); }
  @api() async own(x: string): Promise<number> { return x.length; }`,
        { base: `class Base { fromBase(x: string): number { return x.length; } }` },
      ),
    ).toEqual({ inherited: true, viaSuper: true, own: false });
  });

  it("is false for every API of a service without runners", () => {
    const result = analyzeSource(`
import { api, service } from "bentoc";
@service({ name: "plain" })
export class Plain { @api() async hello(x: string): Promise<string> { return x; } }`);
    expect(result.manifest?.service.apis.map((a) => a.callsRunners)).toEqual([false]);
  });
});
