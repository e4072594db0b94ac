// SPDX-License-Identifier: MIT
// What the demo firmware (`npm start`, src/main.ts) serves, checked the same way
// wherever it runs (the simulator, the virtual board): base is its http://host:port.
export async function expectDemoServes(base: string): Promise<void> {
  const status = await (await fetch(`${base}/api/status`)).json();
  expect(status).toMatchObject({ led: false, beats: 0 });
  expect(await (await fetch(`${base}/api/led`, { method: "POST", body: "on" })).text()).toBe("led on\n");
  expect((await (await fetch(`${base}/api/status`)).json()).led).toBe(true);
  const missing = await fetch(`${base}/nope`);
  expect(missing.status).toBe(404);
}
