import { describe, expect, it } from "vitest";
import { currentCallScope, runInCallScope, scopedCallOptions } from "../../../runtime/runners/call-scope.ts";

const tick = () => new Promise((r) => setTimeout(r, 1));

describe("call scope", () => {
  it("gives calls made before and after any number of awaits the request's options", async () => {
    const controller = new AbortController();
    const scope = { signal: controller.signal, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", deadline: 123 };
    const seen: unknown[] = [];
    await runInCallScope(
      scope,
      async (a: number, b: string) => {
        expect([a, b]).toEqual([1, "x"]);
        seen.push(scopedCallOptions(undefined));
        await tick();
        seen.push(currentCallScope());
        await import("node:path");
        await tick();
        seen.push(scopedCallOptions(undefined));
      },
      1,
      "x",
    );
    expect(seen).toEqual([scope, scope, scope]);
    expect(currentCallScope()).toBeUndefined();
  });

  it("keeps concurrent requests' scopes apart", async () => {
    const outer = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", deadline: 5 };
    const inner = { deadline: 9 };
    const seen: unknown[] = [];
    await Promise.all([
      runInCallScope(
        outer,
        async () => {
          await tick();
          seen.push(currentCallScope());
        },
        0,
        0,
      ),
      runInCallScope(
        inner,
        async () => {
          await tick();
          await tick();
          seen.push(currentCallScope());
        },
        0,
        0,
      ),
    ]);
    expect(seen).toEqual([outer, inner]);
  });

  it("lets options given to the call win over the scope, field by field", () => {
    const scope = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", deadline: 100 };
    const got = runInCallScope(scope, () => scopedCallOptions({ deadline: 50 }), 0, 0);
    expect(got).toEqual({ signal: undefined, traceparent: scope.traceparent, deadline: 50 });
    expect(scopedCallOptions({ deadline: 7 })).toEqual({ deadline: 7 });
  });
});
