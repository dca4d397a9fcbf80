import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { schemasOf } from "./memory-project.ts";

describe("schema: TS types → JSON Schema 2020-12", () => {
  it("primitives and null", () => {
    const { schemas } = schemasOf(
      `export let s: string; export let n: number; export let b: boolean; export let z: null; export let o: object; export let t: \`id-\${string}\`;`,
    );
    expect(schemas).toEqual({
      s: { type: "string" },
      n: { type: "number" },
      b: { type: "boolean" },
      z: { type: "null" },
      o: { type: "object" },
      t: { type: "string" },
    });
  });

  it("literals and literal unions", () => {
    const { schemas } = schemasOf(`export let a: "x"; export let b: 42; export let c: true; export let d: "a" | "b" | null; export let e: 1 | 2;`);
    expect(schemas["a"]).toEqual({ type: "string", const: "x" });
    expect(schemas["b"]).toEqual({ type: "number", const: 42 });
    expect(schemas["c"]).toEqual({ type: "boolean", const: true });
    expect(schemas["d"]).toEqual({ type: ["string", "null"], enum: ["a", "b", null] });
    expect(schemas["e"]).toEqual({ type: "number", enum: [1, 2] });
  });

  it("unions: boolean merged back, primitives as a type list, objects as anyOf, undefined dropped", () => {
    const { schemas } = schemasOf(
      `export let a: string | boolean; export let b: string | number | undefined; export let c: { x: string } | { y: number }; export let d: boolean | null;`,
    );
    expect(schemas["a"]).toEqual({ type: ["boolean", "string"] });
    expect(schemas["b"]).toEqual({ type: ["string", "number"] });
    expect(schemas["c"]).toEqual({
      anyOf: [
        { type: "object", properties: { x: { type: "string" } }, required: ["x"], additionalProperties: false },
        { type: "object", properties: { y: { type: "number" } }, required: ["y"], additionalProperties: false },
      ],
    });
    expect(schemas["d"]).toEqual({ type: ["boolean", "null"] });
  });

  it("enums become $defs", () => {
    const { schemas, defs } = schemasOf(
      `export enum Color { Red = "red", Blue = "blue" } export enum Level { Low, High } export let c: Color; export let l: Level;`,
    );
    expect(schemas["c"]).toEqual({ $ref: "#/$defs/Color" });
    expect(defs["Color"]).toEqual({ type: "string", enum: ["red", "blue"] });
    expect(defs["Level"]).toEqual({ type: "number", enum: [0, 1] });
  });

  it("interfaces: $defs, required vs optional, readonly, T | undefined, additionalProperties false, JSDoc", () => {
    const { schemas, defs } = schemasOf(`
      /** A person. */
      export interface Person {
        /**
         * Full name.
         * @minLength 1
         * @maxLength 80
         * @pattern ^[A-Z]
         * @example "Ada"
         */
        readonly name: string;
        /** @minimum 0 @maximum 150 */
        age?: number;
        nickname: string | undefined;
        /** @format email */
        email: string;
        /** @example {"a": 1} */
        meta: { a: number };
      }
      export let p: Person;`);
    expect(schemas["p"]).toEqual({ $ref: "#/$defs/Person" });
    expect(defs["Person"]).toEqual({
      description: "A person.",
      type: "object",
      properties: {
        name: { type: "string", description: "Full name.", minLength: 1, maxLength: 80, pattern: "^[A-Z]", examples: ["Ada"] },
        age: { type: "number", minimum: 0, maximum: 150 },
        nickname: { type: "string" },
        email: { type: "string", format: "email" },
        meta: { type: "object", properties: { a: { type: "number" } }, required: ["a"], additionalProperties: false, examples: [{ a: 1 }] },
      },
      required: ["name", "email", "meta"],
      additionalProperties: false,
    });
  });

  it("arrays, readonly arrays and tuples", () => {
    const { schemas } = schemasOf(
      `export let a: string[]; export let r: readonly number[]; export let t: [number, string?]; export let v: [string, ...number[]];`,
    );
    expect(schemas["a"]).toEqual({ type: "array", items: { type: "string" } });
    expect(schemas["r"]).toEqual({ type: "array", items: { type: "number" } });
    expect(schemas["t"]).toEqual({ type: "array", prefixItems: [{ type: "number" }, { type: "string" }], minItems: 1, maxItems: 2, items: false });
    expect(schemas["v"]).toEqual({ type: "array", prefixItems: [{ type: "string" }], minItems: 1, items: { type: "number" } });
  });

  it("an alias of a primitive keeps its JSDoc where it is used, also as array items (TypeScript erases such aliases)", () => {
    const { schemas, defs } = schemasOf(`
      /**
       * A ticket's text.
       * @minLength 1
       * @maxLength 40
       */
      export type TicketText = string;
      /** @minimum 0 */
      export type Count = number;
      export interface Batch {
        /** @maxItems 3 */
        texts: TicketText[];
        also: readonly TicketText[];
        generic: Array<TicketText>;
        /** The first one. */
        first: TicketText;
      }
      export let b: Batch; export let c: Count; export let plain: string[];
    `);
    const text = { type: "string", description: "A ticket's text.", minLength: 1, maxLength: 40 };
    expect(defs["Batch"]).toMatchObject({
      properties: {
        texts: { type: "array", maxItems: 3, items: text },
        also: { type: "array", items: text },
        generic: { type: "array", items: text },
        first: { ...text, description: "The first one." },
      },
    });
    expect(schemas["c"]).toEqual({ type: "number", minimum: 0 });
    expect(schemas["plain"]).toEqual({ type: "array", items: { type: "string" } });
    expect(Object.keys(defs)).toEqual(["Batch"]);
    const validate = new Ajv2020({ strict: false }).compile({ ...schemas["b"], $defs: defs });
    expect(validate({ texts: ["a"], also: [], generic: [], first: "x" })).toBe(true);
    expect(validate({ texts: [""], also: [], generic: [], first: "x" })).toBe(false);
    expect(validate({ texts: ["a"], also: ["x".repeat(41)], generic: [], first: "x" })).toBe(false);
  });

  it("records and index signatures", () => {
    const { schemas, defs } = schemasOf(`
      export type Scores = Record<"a" | "b", number>;
      export let r: Record<string, boolean>; export let s: Scores; export let i: { [k: string]: number[] };`);
    expect(schemas["r"]).toEqual({ type: "object", additionalProperties: { type: "boolean" } });
    expect(schemas["i"]).toEqual({ type: "object", additionalProperties: { type: "array", items: { type: "number" } } });
    expect(schemas["s"]).toEqual({ $ref: "#/$defs/Scores" });
    expect(defs["Scores"]).toEqual({
      type: "object",
      properties: { a: { type: "number" }, b: { type: "number" } },
      required: ["a", "b"],
      additionalProperties: false,
    });
  });

  it("Date, bytes and typed arrays", () => {
    const { schemas } = schemasOf(`export let d: Date; export let u: Uint8Array; export let b: Blob; export let f: Float32Array; export let ab: ArrayBuffer;`);
    expect(schemas["d"]).toEqual({ type: "string", format: "date-time" });
    expect(schemas["u"]).toEqual({ type: "string", contentEncoding: "base64" });
    expect(schemas["b"]).toEqual({ type: "string", contentEncoding: "base64" });
    expect(schemas["ab"]).toEqual({ type: "string", contentEncoding: "base64" });
    expect(schemas["f"]).toEqual({ type: "array", items: { type: "number" } });
  });

  it("generics are instantiated under deterministic names", () => {
    const { schemas, defs } = schemasOf(`
      export interface Ticket { id: string }
      export interface Page<T> { items: T[]; next?: string }
      export type Pair<A, B> = { first: A; second: B };
      export let p: Page<Ticket>; export let q: Page<string>; export let r: Pair<Ticket, number>;`);
    expect(schemas["p"]).toEqual({ $ref: "#/$defs/Page_Ticket" });
    expect(schemas["q"]).toEqual({ $ref: "#/$defs/Page_string" });
    expect(schemas["r"]).toEqual({ $ref: "#/$defs/Pair_Ticket_number" });
    expect(defs["Page_Ticket"]).toEqual({
      type: "object",
      properties: { items: { type: "array", items: { $ref: "#/$defs/Ticket" } }, next: { type: "string" } },
      required: ["items"],
      additionalProperties: false,
    });
    expect(Object.keys(defs)).toEqual(["Page_Ticket", "Page_string", "Pair_Ticket_number", "Ticket"]);
  });

  it("recursive types go through $ref and validate real data", () => {
    const { schemas, defs } = schemasOf(`export interface Tree { value: number; children: Tree[] } export let t: Tree;`);
    expect(defs["Tree"]).toEqual({
      type: "object",
      properties: { value: { type: "number" }, children: { type: "array", items: { $ref: "#/$defs/Tree" } } },
      required: ["value", "children"],
      additionalProperties: false,
    });
    const validate = new Ajv2020({ strict: false }).compile({ ...schemas["t"], $defs: defs });
    expect(validate({ value: 1, children: [{ value: 2, children: [] }] })).toBe(true);
    expect(validate({ value: 1, children: [{ value: "2", children: [] }] })).toBe(false);
  });

  it("same-named types from different places get distinct names", () => {
    const { defs } = schemasOf(`
      namespace A { export interface Point { x: number } }
      namespace B { export interface Point { lat: number } }
      export let a: A.Point; export let b: B.Point;`);
    expect(Object.keys(defs)).toEqual(["Point", "Point_2"]);
  });

  it("unsupported types are BC1006 at the field, naming its path, never a crash", () => {
    const { ctx } = schemasOf(`
      export class Money { cents = 0; format(): string { return ""; } }
      export interface Job {
        input: string;
        onDone: () => void;
        nested: { deeper: { sym: symbol } };
      }
      export let j: Job; export let a: any; export let u: unknown; export let m: Money; export let big: bigint; export let map: Map<string, number>;`);
    const messages = ctx.diagnostics.map((d) => `${d.code} ${d.message}`);
    expect(ctx.diagnostics.every((d) => d.code === "BC1006")).toBe(true);
    expect(messages.find((m) => m.includes("'j.onDone'"))).toContain("functions are not JSON");
    expect(messages.find((m) => m.includes("'j.nested.deeper.sym'"))).toContain("symbols are not JSON");
    expect(messages.some((m) => m.includes("'a'") && m.includes("'any'"))).toBe(true);
    expect(messages.some((m) => m.includes("'u'") && m.includes("'unknown'"))).toBe(true);
    expect(messages.find((m) => m.includes("'m'"))).toContain("a class instance with methods");
    expect(messages.some((m) => m.includes("'big'") && m.includes("bigint"))).toBe(true);
    expect(messages.some((m) => m.includes("'map'"))).toBe(true);
    const onDone = ctx.diagnostics.find((d) => d.message.includes("j.onDone"));
    expect(onDone?.line).toBe(5);
    expect(onDone?.column).toBe(17);
  });
});
