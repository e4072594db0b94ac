// SPDX-License-Identifier: MIT
// MQTT topic filters in the firmware (mongoose/mqtt-topic), against the examples
// of MQTT 3.1.1 section 4.7.
import { runMain, lines } from "./helpers/sim";

const MATCHES: Array<[string, string, boolean]> = [
  ["sport/tennis/player1/#", "sport/tennis/player1", true],
  ["sport/tennis/player1/#", "sport/tennis/player1/ranking", true],
  ["sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true],
  ["sport/#", "sport", true],
  ["#", "sport/tennis", true],
  ["sport/tennis/+", "sport/tennis/player1", true],
  ["sport/tennis/+", "sport/tennis/player1/ranking", false],
  ["sport/+", "sport", false],
  ["sport/+", "sport/", true],
  ["+/+", "/finance", true],
  ["/+", "/finance", true],
  ["+", "/finance", false],
  ["#", "$SYS/uptime", false],
  ["+/monitor/Clients", "$SYS/monitor/Clients", false],
  ["$SYS/#", "$SYS/uptime", true],
  ["$SYS/monitor/+", "$SYS/monitor/Clients", true],
  ["a/b", "a/b", true],
  ["a/b", "a/b/c", false],
  ["a/b/c", "a/b", false],
];
const FILTERS: Array<[string, boolean]> = [
  ["sport/tennis/#", true], ["sport/tennis#", false], ["sport/tennis/#/ranking", false],
  ["+", true], ["sport+", false], ["sport/+/player1", true], ["#", true], ["", false], ["a\u0000b", false],
];
const NAMES: Array<[string, boolean]> = [["sport/tennis", true], ["sport/+", false], ["sport/#", false], ["", false], ["/", true]];

test("topicMatches, topicFilterFault and topicNameFault follow MQTT 3.1.1 section 4.7", async () => {
  const r = await runMain(`
import { topicMatches, topicFilterFault, topicNameFault } from "mongoose";
const matches: Array<[string, string, boolean]> = ${JSON.stringify(MATCHES)};
for (const [filter, topic] of matches) console.log("match " + JSON.stringify([filter, topic, topicMatches(filter, topic)]));
for (const [filter] of ${JSON.stringify(FILTERS)} as Array<[string, boolean]>) console.log("filter " + JSON.stringify([filter, topicFilterFault(filter) ?? null]));
for (const [name] of ${JSON.stringify(NAMES)} as Array<[string, boolean]>) console.log("name " + JSON.stringify([name, topicNameFault(name) ?? null]));
`);
  expect(r.stderr).toBe("");
  const out = lines(r.stdout);
  expect(out.filter((l) => l.startsWith("match ")).map((l) => JSON.parse(l.slice(6)))).toEqual(MATCHES);
  const filters = out.filter((l) => l.startsWith("filter ")).map((l) => JSON.parse(l.slice(7)) as [string, string | null]);
  expect(filters.map(([f, fault]) => [f, fault === null])).toEqual(FILTERS);
  expect(filters.find(([f]) => f === "sport/tennis#")?.[1]).toBe("# is a whole level, the last one");
  expect(filters.find(([f]) => f === "sport+")?.[1]).toBe("+ is a whole level");
  const names = out.filter((l) => l.startsWith("name ")).map((l) => JSON.parse(l.slice(5)) as [string, string | null]);
  expect(names.map(([n, fault]) => [n, fault === null])).toEqual(NAMES);
});
