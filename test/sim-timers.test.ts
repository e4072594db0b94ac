// SPDX-License-Identifier: MIT
// Timers in the simulator: the web globals (setTimeout and friends), promise jobs
// between timers, and Moddable's `timer` module, which shares their list.
import { buildApp, lines, mainApp, runFirmware } from "./helpers/sim";

// A hang (a timer that should have been cleared) ends in exit code 124, not a jest timeout.
const LIMIT = ["--timeout", "10"];

async function run(source: string) {
  const exe = buildApp(mainApp(source));
  const started = performance.now();
  const r = await runFirmware(exe, LIMIT);
  return { ...r, ms: performance.now() - started, lines: lines(r.stdout) };
}

// Lines of one timer's story. Timers whose due times are fixed when main runs are
// compared in full; ones that re-arm from their callbacks are compared one by one,
// since a stalled process could legitimately interleave them differently.
function only(lines: string[], prefix: string): string[] {
  return lines.filter((line) => line.startsWith(prefix));
}

describe("web timers", () => {
  test("fire by delay, then by creation order at equal delay; clearTimeout cancels; extra args are passed", async () => {
    const r = await run(`
      setTimeout(() => console.log("d60"), 60);
      setTimeout(() => console.log("d0 a"), 0);
      setTimeout(() => console.log("d30 a"), 30);
      setTimeout(() => console.log("d0 b"));
      setTimeout(() => console.log("d30 b"), 30);
      setTimeout(() => console.log("d0 c (negative delay)"), -20);
      setTimeout(() => console.log("d30 c"), 30);
      setTimeout(function (n: number, s: string, o: { k: number[] }) {
        console.log("args", n, s, o.k.length, arguments.length);
      }, 45, 7, "seven", { k: [1, 2] });
      const cancelled = setTimeout(() => console.log("cancelled timer fired"), 10);
      const cancelledLater = setTimeout(() => console.log("cancelled-later timer fired"), 50);
      clearTimeout(cancelled);
      setTimeout(() => clearTimeout(cancelledLater), 20);
      clearTimeout(undefined);           // no-ops, as on the web
      clearTimeout(123456 as TimerID);
      clearInterval(cancelled);          // already cleared
      console.log("main done");
    `);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(["main done", "d0 a", "d0 b", "d0 c (negative delay)", "d30 a", "d30 b", "d30 c", "args 7 seven 2 3", "d60"]);
  });

  test("a timer set before one with extra args keeps its callback through garbage collections", async () => {
    // XS keeps what C remembers in a list linked through the slots themselves: a
    // timer's arguments assigned after they were remembered cut the timers set
    // before it out of that list, and a collection freed their callbacks.
    const r = await run(`
      setTimeout(() => console.log("first fired"), 80);
      setTimeout((word: string) => console.log("second fired", word), 40, "with an argument");
      let junk: object[] = [];
      for (let i = 0; i < 300000; i++) {
        junk.push({ i, s: "garbage " + i });
        if (junk.length > 1000) junk = [];
      }
      console.log("collected");
    `);
    expect(r.stderr).toBe("");
    expect(r.lines).toEqual(["collected", "second fired with an argument", "first fired"]);
    expect(r.code).toBe(0);
  });

  test("setInterval repeats until cleared, also from inside its own callback; then the firmware exits", async () => {
    const r = await run(`
      let own = 0, other = 0;
      const self = setInterval(() => {
        own++;
        console.log("self", own);
        if (own === 3) clearInterval(self);
      }, 10);
      const outer = setInterval(() => other++, 5);
      let atClear = -1;
      setTimeout(() => { clearInterval(outer); atClear = other; }, 60);
      setTimeout(() => console.log("end: self", own, "outer ran", atClear > 0, "then", other - atClear), 200);
      const zero = setInterval(() => { console.log("zero", other); clearInterval(zero); }, 0);
    `);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.lines[0]).toBe("zero 0");
    expect(only(r.lines, "self")).toEqual(["self 1", "self 2", "self 3"]);
    expect(r.lines[r.lines.length - 1]).toBe("end: self 3 outer ran true then 0");
    expect(r.lines).toHaveLength(5);
    // Exit code 0 well before --timeout: nothing was left scheduled.
    expect(r.ms).toBeLessThan(5000);
  });

  test("clearTimeout and clearInterval take an id however XS holds the number (a Set keeps it as a double)", async () => {
    const r = await run(`
      const ids = new Set<TimerID>([setInterval(() => console.log("interval fired"), 10), setTimeout(() => console.log("timeout fired"), 30)]);
      setTimeout(() => {
        for (const id of ids) clearInterval(id);
        console.log("cleared", ids.size);
      }, 5);
      clearTimeout(NaN as TimerID);   // no timer has such an id: no-ops
      clearTimeout(1e12 as TimerID);
    `);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(["cleared 2"]);
  });

  test("promise jobs run after each callback, before the next timer, even one already due", async () => {
    const r = await run(`
      const log = (s: string) => console.log(s);
      async function steps(tag: string) {
        await null;
        log(tag + " await 1");
        await new Promise<void>((resolve) => resolve());
        log(tag + " await 2");
      }
      setTimeout(() => log("timer 0"), 0);
      Promise.resolve().then(() => log("main then"));
      log("main sync");
      // Both due at once: the first one's jobs (and the jobs they queue) run before the second.
      setTimeout(() => {
        log("timer A");
        Promise.resolve().then(() => log("A then 1")).then(() => log("A then 2"));
        steps("A");
      }, 20);
      setTimeout(() => log("timer B"), 20);
      setTimeout(async () => {
        log("timer C");
        await steps("C");
        setTimeout(() => log("timer D (set after C's awaits)"), 0);
      }, 30);
    `);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([
      "main sync",
      "main then",
      "timer 0",
      "timer A",
      "A then 1",
      "A await 1",
      "A then 2",
      "A await 2",
      "timer B",
      "timer C",
      "C await 1",
      "C await 2",
      "timer D (set after C's awaits)",
    ]);
  });
});

describe("Moddable timer module", () => {
  test("Timer.set passes the id, Timer.set with repeat and Timer.repeat repeat, Timer.clear inside the callback stops them", async () => {
    const r = await run(`
      import Timer from "timer";
      const once = Timer.set((id) => console.log("set", typeof id, id === once), 5);
      let reps = 0;
      const rep = Timer.repeat((id) => {
        reps++;
        console.log("repeat", reps, id === rep);
        if (reps === 3) Timer.clear(id);
      }, 10);
      let sets = 0;
      const setRepeat = Timer.set((id) => {
        sets++;
        console.log("set+repeat", sets, id === setRepeat);
        if (sets === 2) Timer.clear(setRepeat);
      }, 45, 30);
      Timer.clear(Timer.set(() => console.log("cleared before firing"), 1));
      Timer.clear(undefined);
      setTimeout(() => console.log("end", reps, sets), 250);
    `);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.lines[0]).toBe("set number true");
    expect(only(r.lines, "repeat")).toEqual(["repeat 1 true", "repeat 2 true", "repeat 3 true"]);
    expect(only(r.lines, "set+repeat")).toEqual(["set+repeat 1 true", "set+repeat 2 true"]);
    expect(r.lines[r.lines.length - 1]).toBe("end 3 2");
    expect(r.lines).toHaveLength(7);
  });

  test("Timer.schedule with a delay that throws leaves the timer as it was", async () => {
    const r = await run(`
      import Timer from "timer";
      const kept = Timer.set(() => console.log("kept fired"), 30);
      try {
        Timer.schedule(kept, Symbol("delay") as unknown as number);
      } catch (e) {
        console.log("threw " + (e as Error).name);
      }
    `);
    expect(r.stderr).toBe("");
    expect(r.lines).toEqual(["threw TypeError", "kept fired"]);
    expect(r.code).toBe(0);
  });

  test("Timer.schedule reschedules a timer, also from inside its callback", async () => {
    const r = await run(`
      import Timer from "timer";
      const started = Date.now();
      // Due in 20 s, moved to 20 ms: the firmware must not wait for the original delay.
      const moved = Timer.set(() => console.log("moved fired", Date.now() - started < 5000), 20000);
      Timer.schedule(moved, 20);
      let n = 0;
      Timer.set((id) => {
        n++;
        console.log("again", n);
        if (n < 3) Timer.schedule(id, 10);   // a one-shot keeps going while it reschedules itself
      }, 5);
      // A repeating timer turned into a one-shot by scheduling it without repeat.
      let r = 0;
      Timer.repeat((id) => {
        r++;
        console.log("was repeating", r);
        if (r === 1) Timer.schedule(id, 30);   // fires once more, then never again
      }, 40);
    `);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(only(r.lines, "again")).toEqual(["again 1", "again 2", "again 3"]);
    expect(only(r.lines, "moved")).toEqual(["moved fired true"]);
    expect(only(r.lines, "was repeating")).toEqual(["was repeating 1", "was repeating 2"]);
    expect(r.lines).toHaveLength(6);
    expect(r.ms).toBeLessThan(5000);
  });

  test("Timer.schedule(id) without a delay makes a timer dormant; the firmware exits when only dormant timers remain", async () => {
    const r = await run(`
      import Timer from "timer";
      const sleeper = Timer.set(() => console.log("sleeper fired"), 3000);
      Timer.schedule(sleeper);
      let n = 0;
      Timer.repeat((id) => {
        n++;
        console.log("tick", n);
        if (n === 2) Timer.schedule(id);   // sleeps from inside its own callback
      }, 10);
      // A dormant timer can be woken again.
      const woken = Timer.set(() => console.log("woken fired"), 3000);
      Timer.schedule(woken);
      setTimeout(() => Timer.schedule(woken, 5), 100);
    `);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(["tick 1", "tick 2", "woken fired"]);
    // Exited long before the sleeper's 3 s or the --timeout.
    expect(r.ms).toBeLessThan(2500);
  });

  test("a timer slept and rescheduled in the same callback is freed once it has fired", async () => {
    const r = await run(`
      import Timer from "timer";
      let n = 0;
      const t = Timer.set((id) => {
        n++;
        console.log("fire", n);
        if (n === 1) {
          Timer.schedule(id);       // sleep...
          Timer.schedule(id, 10);   // ...then changed mind: fire once more
        }
      }, 5);
      setTimeout(() => {
        try {
          Timer.schedule(t, 5);
          console.log("a finished one-shot was revived");
        } catch (e) {
          console.log("finished:", (e as Error).message.includes("no such timer"));
        }
      }, 100);
    `);
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(["fire 1", "fire 2", "finished: true"]);
  });
});
