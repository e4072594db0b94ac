// SPDX-License-Identifier: MIT
// The language as compiled by tsc + xsmgc and run by XS in the simulator: one app
// of several modules, built and run once; each test checks what one part printed.
import { RunResult, buildApp, lines, makeApp, runFirmware } from "./helpers/sim";

const manifest = {
  modules: { "*": ["./main", "./shapes", "./lib/*", "./lib/deep/leaf"] },
};

// Every result is printed as `label=<JSON>` so the tests compare values, not text.
const report = `
export function say(label: string, value: unknown): void {
  console.log(label + "=" + JSON.stringify(value));
}
`;

const shapes = `
export let evaluations = 0;
evaluations++;

export enum Color { Red, Green = 5, Blue }
export enum Unit { Celsius = "C", Fahrenheit = "F" }
export const enum Dir { Up = "UP", Down = "DOWN" }

export abstract class Shape {
  static count = 0;
  static readonly kind: string = "shape";
  static #created: string[] = [];
  static {
    Shape.#created.push("static block ran");
  }
  #id: number;
  protected color: Color;
  constructor(color: Color) {
    this.#id = ++Shape.count;
    this.color = color;
    Shape.#created.push(this.constructor.name);
  }
  get id(): number { return this.#id; }
  abstract area(): number;
  #label(): string { return "#" + this.#id + ":" + Color[this.color]; }
  describe(): string { return this.#label() + " area " + this.area(); }
  static isShape(o: object): boolean { return #id in o; }
  static created(): string[] { return [...Shape.#created]; }
}

export class Square extends Shape {
  constructor(private readonly side: number, color = Color.Blue) { super(color); }
  area(): number { return this.side * this.side; }
  override describe(): string { return "square " + super.describe(); }
}

export default class Circle extends Shape {
  static override readonly kind = "circle";
  constructor(public r: number) { super(Color.Red); }
  area(): number { return Math.round(Math.PI * this.r * this.r); }
}
`;

const util = `
import Circle, { Color, Square, evaluations } from "../shapes";
import { say } from "./report";

export function sum(...xs: number[]): number { return xs.reduce((a, b) => a + b, 0); }
export const favourite = Color.Blue;
export function square(n: number): Square { return new Square(n); }
export function circle(r: number): Circle { return new Circle(r); }
export { evaluations as shapeEvaluations };
export * from "./deep/leaf";
export default "util default";
say("util-evaluated", true);
`;

const leaf = `
import { Unit } from "../../shapes";
export const leafUnit: Unit = Unit.Fahrenheit;
export function leafName(): string { return "leaf"; }
`;

const main = `
import utilDefault, { sum, favourite, square, circle, shapeEvaluations, leafName, leafUnit } from "./lib/util";
import * as util from "./lib/util.js";
import Circle, { Color, Dir, Shape, Square, Unit, evaluations } from "./shapes";
import { say } from "./lib/report";

say("modules", {
  utilDefault, sum: sum(1, 2, 3), favourite: favourite === Color.Blue, namespaced: util.sum(4, 5),
  sameBinding: util.square === square, leaf: leafName(), leafUnit, evaluations, shapeEvaluations,
});

// Top-level await: main is an async module.
await new Promise<void>((resolve) => setTimeout(resolve, 5));
say("top-level-await", true);

function* counter(limit: number): Generator<number, string, number | undefined> {
  for (let i = 0; i < limit; i++) {
    const sent = yield i;
    if (sent !== undefined) i = sent;
  }
  return "done";
}
function* delegate(): Generator<number | string> {
  yield "start";
  const result: string = yield* counter(2);
  yield result;
}
{
  const g = counter(10);
  const steps = [g.next(), g.next(), g.next(7), g.next(), g.return("stopped"), g.next()];
  say("generators", { spread: [...counter(3)], delegate: [...delegate()], steps });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
async function* ticks(n: number): AsyncGenerator<number> {
  for (let i = 1; i <= n; i++) {
    await sleep(1);
    yield i * 10;
  }
}
const countdown = {
  from: 3,
  [Symbol.asyncIterator]() {
    let n = this.from;
    return { next: async (): Promise<IteratorResult<number>> => (n > 0 ? { value: n--, done: false } : { value: undefined, done: true }) };
  },
};
{
  const got: number[] = [];
  for await (const v of ticks(3)) got.push(v);
  const down: number[] = [];
  for await (const v of countdown) down.push(v);
  const awaited: string[] = [];
  for await (const v of [Promise.resolve("a"), "b", sleep(2).then(() => "c")]) awaited.push(v);
  say("async-generators", { got, down, awaited });
}

async function slowDouble(x: number): Promise<number> {
  await sleep(x);
  return x * 2;
}
async function fails(): Promise<never> {
  await null;
  throw new RangeError("out of range");
}
{
  const all = await Promise.all([slowDouble(3), slowDouble(1), 7]);
  const settled = await Promise.allSettled([fails(), slowDouble(2)]);
  const raced = await Promise.race([sleep(30).then(() => "slow"), slowDouble(1).then(String)]);
  let caught = "";
  try {
    await fails();
  } catch (e) {
    caught = (e as Error).name + ": " + (e as Error).message;
  } finally {
    caught += " (finally)";
  }
  const any = await Promise.any([fails(), slowDouble(4)]);
  say("async-await", { all, settled: settled.map((s) => s.status), raced, caught, any });
}

{
  const sq = square(3);
  const c = circle(2);
  let setterError = "";
  try {
    (sq as unknown as { id: number }).id = 9;
  } catch (e) {
    setterError = (e as Error).name;
  }
  say("classes", {
    square: sq.describe(), circle: c.describe(), ids: [sq.id, c.id], count: Shape.count,
    kinds: [Shape.kind, Circle.kind], instanceOf: [sq instanceof Shape, c instanceof Square],
    brand: [Shape.isShape(sq), Shape.isShape({})], created: Shape.created(), setterError,
    ownKeys: Reflect.ownKeys(sq).map(String),
  });
}

say("enums", {
  values: [Color.Red, Color.Green, Color.Blue], reverse: [Color[0], Color[5], Color[6]],
  strings: [Unit.Celsius, Unit.Fahrenheit], constEnum: [Dir.Up, Dir.Down], keys: Object.keys(Unit),
});

{
  const { a, b: [x, , y = 7], c: { d: deep = "none" } = {}, ...rest } =
    { a: 1, b: [2, 3], e: 4, f: 5 } as { a: number; b: number[]; c?: { d?: string }; e: number; f: number };
  let p = 1, q = 2;
  [p, q] = [q, p];
  const params = (({ name, tags: [first, ...others] = [] }: { name: string; tags?: string[] }) => [name, first, others.length]);
  const [head, ...tail] = "xyz";
  say("destructuring", { a, x, y, deep, rest, swapped: [p, q], params: params({ name: "n", tags: ["t1", "t2", "t3"] }), head, tail });
}

{
  const key = { id: 1 };
  const m = new Map<unknown, string>([["one", "1"], [key, "object key"], [NaN, "nan"]]);
  m.set("two", "2");
  m.delete("one");
  m.set("one", "again");
  const s = new Set([3, 1, 3, 2, 1]);
  s.add(0).delete(1);
  const weak = new WeakMap<object, number>([[key, 42]]);
  say("collections", {
    mapKeys: [...m.keys()].map(String), objectKey: m.get(key), nan: m.get(NaN), size: m.size,
    set: [...s], has: [s.has(2), s.has(1)], weak: weak.get(key), fromMap: Object.fromEntries(new Map([["k", "v"]])),
  });
}

{
  const original = {
    n: 1.5, neg: -0.25, big: 1e21, s: "quote \\" backslash \\\\ newline \\n tab \\t é ✓ 😀 \\u0001",
    arr: [true, false, null, [], {}], nested: { k: [1, { z: "z" }] }, skipped: undefined,
  };
  const text = JSON.stringify(original);
  const back = JSON.parse(text);
  const revived = JSON.parse('{"when":"2024-01-02","n":"12"}', (k, v) => (k === "n" ? Number(v) : v));
  say("json", {
    roundTrip: JSON.stringify(back) === text, sameString: back.s === original.s, hasSkipped: "skipped" in back,
    pretty: JSON.stringify({ a: [1] }, null, 2), replacer: JSON.stringify({ a: 1, b: 2, c: 3 }, ["c", "a"]),
    revived, toJSON: JSON.stringify({ toJSON: () => "custom" }), text,
  });
}

{
  const big = 2n ** 64n + 1n;
  let mixing = "";
  try {
    (big as unknown as number) + 1;
  } catch (e) {
    mixing = (e as Error).name;
  }
  say("bigint", {
    big: big.toString(), hex: (255n).toString(16), type: typeof big, div: (7n / 2n).toString(), neg: (-(2n ** 70n)).toString(),
    asUint8: BigInt.asUintN(8, 257n).toString(), asInt8: BigInt.asIntN(8, 255n).toString(), compare: [1n < 2, 2n == (2 as unknown as bigint)],
    parsed: BigInt("0x1fffffffffffff").toString(), mixing,
  });
}

{
  const dates = "2024-05 and 1999-12";
  const sticky = /foo/y;
  sticky.lastIndex = 3;
  say("regexp", {
    named: [...dates.matchAll(/(?<y>\\d{4})-(?<m>\\d{2})/g)].map((m) => m.groups!.y + "/" + m.groups!.m),
    replaceFn: "a-b-c".replace(/-(\\w)/g, (_, c: string) => c.toUpperCase()),
    lookbehind: "price: $42, €7".match(/(?<=\\$)\\d+/)![0],
    dotAll: /a.b/s.test("a\\nb"), unicode: /^\\u{1F600}$/u.test("😀"), insensitive: /^x/i.test("Xy"),
    sticky: [sticky.test("barfoo"), sticky.lastIndex], split: "a1b22c".split(/\\d+/),
    lastMatch: /(\\d+)(?!.*\\d)/.exec("1 22 333")![1], flags: /a/gimsuy.flags,
    roundTrip: new RegExp(/\\d+\\.\\d+/.source, "g").test("v1.25"),
  });
  const slash = /a\\/b/;
  say("regexp-source", { source: slash.source, length: slash.source.length, reparsed: new RegExp(slash.source).test("a/b") });
}

say("end", true);
`;

let result: RunResult;
let values: Map<string, unknown>;

beforeAll(async () => {
  const dir = makeApp({
    "manifest.json": JSON.stringify(manifest),
    "main.ts": main,
    "shapes.ts": shapes,
    "lib/util.ts": util,
    "lib/report.ts": report,
    "lib/deep/leaf.ts": leaf,
  });
  result = await runFirmware(buildApp(dir), ["--timeout", "10"]);
  values = new Map();
  for (const line of lines(result.stdout)) {
    const eq = line.indexOf("=");
    if (eq > 0) values.set(line.slice(0, eq), JSON.parse(line.slice(eq + 1)));
  }
});

test("the app runs to the end and exits 0 with nothing on stderr", () => {
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(values.get("end")).toBe(true);
  expect(lines(result.stdout).filter((line) => !/^[\w-]+=/.test(line))).toEqual([]);
});

test("modules import each other: subfolders, ../ paths, default, named, namespace and re-exports; each evaluated once", () => {
  expect(values.get("modules")).toEqual({
    utilDefault: "util default", sum: 6, favourite: true, namespaced: 9, sameBinding: true,
    leaf: "leaf", leafUnit: "F", evaluations: 1, shapeEvaluations: 1,
  });
  // util.ts ran once although main imports it twice (once as "./lib/util.js").
  expect(lines(result.stdout).filter((l) => l.startsWith("util-evaluated="))).toEqual(["util-evaluated=true"]);
});

test("top-level await in the main module", () => {
  expect(values.get("top-level-await")).toBe(true);
});

test("generators: spread, yield*, values sent in, return()", () => {
  expect(values.get("generators")).toEqual({
    spread: [0, 1, 2],
    delegate: ["start", 0, 1, "done"],
    steps: [
      { value: 0, done: false }, { value: 1, done: false }, { value: 8, done: false },
      { value: 9, done: false }, { value: "stopped", done: true }, { done: true },
    ],
  });
});

test("async generators and for await over async iterables and promises", () => {
  expect(values.get("async-generators")).toEqual({ got: [10, 20, 30], down: [3, 2, 1], awaited: ["a", "b", "c"] });
});

test("async/await with Promise.all, allSettled, race, any and try/catch/finally", () => {
  expect(values.get("async-await")).toEqual({
    all: [6, 2, 7], settled: ["rejected", "fulfilled"], raced: "2", caught: "RangeError: out of range (finally)", any: 8,
  });
});

test("classes: private fields and methods, #x in, static members and blocks, accessors, inheritance", () => {
  expect(values.get("classes")).toEqual({
    square: "square #1:Blue area 9",
    circle: "#2:Red area 13",
    ids: [1, 2],
    count: 2,
    kinds: ["shape", "circle"],
    instanceOf: [true, false],
    brand: [true, false],
    created: ["static block ran", "Square", "Circle"],
    setterError: "TypeError",
    ownKeys: ["color", "side"],
  });
});

test("TypeScript enums: numeric with reverse mapping, string, const", () => {
  expect(values.get("enums")).toEqual({
    values: [0, 5, 6], reverse: ["Red", "Green", "Blue"], strings: ["C", "F"], constEnum: ["UP", "DOWN"],
    keys: ["Celsius", "Fahrenheit"],
  });
});

test("destructuring: nested, defaults, rest, swap, parameters, strings", () => {
  expect(values.get("destructuring")).toEqual({
    a: 1, x: 2, y: 7, deep: "none", rest: { e: 4, f: 5 }, swapped: [2, 1], params: ["n", "t1", 2], head: "x", tail: ["y", "z"],
  });
});

test("Map, Set and WeakMap", () => {
  expect(values.get("collections")).toEqual({
    mapKeys: ["[object Object]", "NaN", "two", "one"], objectKey: "object key", nan: "nan", size: 4,
    set: [3, 2, 0], has: [true, false], weak: 42, fromMap: { k: "v" },
  });
});

test("JSON round trip, escaping, replacer, reviver, toJSON", () => {
  const json = values.get("json") as Record<string, unknown>;
  expect(json).toMatchObject({
    roundTrip: true, sameString: true, hasSkipped: false, pretty: '{\n  "a": [\n    1\n  ]\n}', replacer: '{"c":3,"a":1}',
    revived: { when: "2024-01-02", n: 12 }, toJSON: '"custom"',
  });
  // The same text Node produces for the same object.
  const original = {
    n: 1.5, neg: -0.25, big: 1e21, s: 'quote " backslash \\ newline \n tab \t é ✓ 😀 \u0001',
    arr: [true, false, null, [], {}], nested: { k: [1, { z: "z" }] }, skipped: undefined,
  };
  expect(json.text).toBe(JSON.stringify(original));
});

test("BigInt arithmetic, conversions and mixing errors", () => {
  expect(values.get("bigint")).toEqual({
    big: "18446744073709551617", hex: "ff", type: "bigint", div: "3", neg: "-1180591620717411303424",
    asUint8: "1", asInt8: "-1", compare: [true, true], parsed: "9007199254740991", mixing: "TypeError",
  });
});

test("RegExp: named groups, lookbehind, flags s/u/y/i/g, replace with a function, split", () => {
  expect(values.get("regexp")).toEqual({
    named: ["2024/05", "1999/12"], replaceFn: "aBC", lookbehind: "42", dotAll: true, unicode: true, insensitive: true,
    sticky: [true, 6], split: ["a", "b", "c"], lastMatch: "333", flags: "gimsuy", roundTrip: true,
  });
});

// KNOWN BUG in the pinned XS engine (deps/xs/sources/xsRegExp.c, fx_RegExp_prototype_get_source):
// `source` escapes every "/", even one already escaped, so /a\/b/.source is "a\\/b" and
// new RegExp(re.source) no longer matches "a/b". test.failing passes while the bug is there;
// when this test starts failing, the bug is fixed: make it a plain test.
test.failing("KNOWN BUG (XS): RegExp source keeps an escaped slash as written", () => {
  expect(values.get("regexp-source")).toEqual({ source: "a\\/b", length: 4, reparsed: true });
});
