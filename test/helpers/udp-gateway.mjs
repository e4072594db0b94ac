// SPDX-License-Identifier: MIT
// hosts/qemu/udp_gateway.mjs in a process of its own (the tests are CommonJS and
// it is an ES module). argv[2]: its options as JSON. Prints { port, qemuArgs } as
// one JSON line, then serves until its standard input ends; it does not close
// the gateway then, so the process's exit shows that the gateway (its relays and
// their idle timers among it) does not keep Node alive.
import { startUdpGateway } from "../../hosts/qemu/udp_gateway.mjs";

const gateway = await startUdpGateway(JSON.parse(process.argv[2]));
process.stdout.write(JSON.stringify({ port: gateway.port, qemuArgs: gateway.qemuArgs }) + "\n");
process.stdin.on("end", () => process.stdin.destroy());
process.stdin.resume();
