import { describe, expect, it } from "vitest";
import { discover } from "../../../compiler/discover/discover.ts";
import { addSource, sdkSymbols } from "./memory-project.ts";

addSource(
  `export function api(_o?: object) { return (_m: unknown, _c: unknown) => {}; }
export function service(_o?: object) { return (_m: unknown, _c: unknown) => {}; }
export function runner(_o?: object) { return (_m: unknown, _c: unknown) => {}; }
export function depends<T>(c: new () => T): T { return new c(); }`,
  "look-alike.ts",
);
addSource(`export { api as exposed, runner } from "bentoc";`, "reexport.ts");

function discoverIn(text: string) {
  const sf = addSource(text);
  return discover([sf], sdkSymbols());
}

describe("discover: sdk decorators by symbol", () => {
  it("finds service, apis, runners, batchable methods and depends() fields", () => {
    const { discovery, diagnostics } = discoverIn(`
      import { api, batchable, depends, runner, service } from "bentoc";
      @runner({ model: "m" }) export class Enc { @batchable() async enc(xs: string[]): Promise<number[]> { return []; } helper() {} }
      @service() export class Svc {
        readonly enc = depends(Enc);
        other = 3;
        @api() async a(x: string): Promise<string> { return x; }
        notAnApi() {}
        @api({ route: "/b" }) async b(): Promise<void> {}
      }`);
    expect(diagnostics).toEqual([]);
    expect(discovery.services.map((s) => s.className)).toEqual(["Svc"]);
    expect(discovery.services[0]?.apis.map((a) => a.name)).toEqual(["a", "b"]);
    expect(discovery.services[0]?.apis[1]?.options?.getText()).toBe(`{ route: "/b" }`);
    expect(discovery.services[0]?.dependencies.map((d) => [d.name, d.target?.getName()])).toEqual([["enc", "Enc"]]);
    expect(discovery.runners.map((r) => [r.className, r.methods.map((m) => m.name)])).toEqual([["Enc", ["enc"]]]);
  });

  it("follows import aliases, re-exports and namespace imports", () => {
    const { discovery } = discoverIn(`
      import { api as endpoint, service as svc } from "bentoc";
      import * as bentoc from "bentoc";
      import { exposed, runner as model } from "./reexport.ts";
      @model() export class R {}
      @svc() export class S {
        r = bentoc.depends(R);
        @endpoint() async one(x: string): Promise<string> { return x; }
        @bentoc.api() async two(x: string): Promise<string> { return x; }
        @exposed() async three(x: string): Promise<string> { return x; }
      }`);
    expect(discovery.services[0]?.apis.map((a) => a.name)).toEqual(["one", "two", "three"]);
    expect(discovery.runners.map((r) => r.className)).toEqual(["R"]);
    expect(discovery.services[0]?.dependencies[0]?.target?.getName()).toBe("R");
  });

  it("ignores look-alike decorators of another module", () => {
    const { discovery, diagnostics } = discoverIn(`
      import { api, service, runner, depends } from "./look-alike.ts";
      @runner() export class R {}
      @service() export class S {
        r = depends(R);
        @api() async one(x: string): Promise<string> { return x; }
      }`);
    expect(diagnostics).toEqual([]);
    expect(discovery.services).toEqual([]);
    expect(discovery.runners).toEqual([]);
  });

  it("reports sdk decorators in the wrong place (BC1019)", () => {
    const { diagnostics } = discoverIn(`
      import { api, batchable, service, runner } from "bentoc";
      export class Plain { @api() async a(): Promise<void> {} }
      @service() export class S { @batchable() async b(xs: string[]): Promise<string[]> { return xs; } }
      @runner() export class R { @api() async c(): Promise<void> {} }`);
    expect(diagnostics.map((d) => [d.code, d.line])).toEqual([
      ["BC1019", 3],
      ["BC1019", 4],
      ["BC1019", 5],
    ]);
    expect(diagnostics[0]?.message).toContain("needs its class 'Plain' to be decorated with @service");
  });
});
