/**
 * `logs-stored` names the sending lab device by its lab id (`sender`) beside the name the analyzer
 * filed the logs under (`from`: a FortiClient's hostname, a FortiGate's devname), on real sockets;
 * a sender outside the lab has no `sender`.
 */
import * as net from "node:net"
import { describe, expect, it } from "vitest"
import { type StartedLab, useLab, waitForEvent } from "../support/lab.ts"

const YAML = `name: stored-sender-test
devices:
  faz-1: { kind: fortianalyzer }
  fct-1: { kind: forticlient, hostname: laptop-7, syslog: { server: faz-1, mode: reliable, rate: 100/s, count: 5 } }
  fgt-1: { kind: fortigate, hostname: FGT-HQ, syslog: { server: faz-1, rate: 100/s, count: 5 } }
`

const storedFrom = (started: StartedLab, from: string) =>
  waitForEvent(started, "logs-stored", (e) => e.from === from)

describe("logs-stored names the lab device that sent the logs", () => {
  it("carries the lab id of a FortiClient and a FortiGate filed under their hostnames, none for an outside sender", async () => {
    const started = await useLab(YAML)
    expect(await storedFrom(started, "laptop-7")).toMatchObject({ device: "faz-1", from: "laptop-7", sender: "fct-1" })
    expect(await storedFrom(started, "FGT-HQ")).toMatchObject({ device: "faz-1", from: "FGT-HQ", sender: "fgt-1" })

    const target = started.lab.plan.resolve("faz-1", "tcp/514")
    const outside = net.connect({ host: target.address, port: target.actualPort })
    outside.end("<134>Nov 27 08:00:00 siem-relay test: from outside the lab\n")
    const stored = await storedFrom(started, "siem-relay")
    expect(stored.sender).toBeUndefined()
    expect("sender" in stored).toBe(false)
  })
})
