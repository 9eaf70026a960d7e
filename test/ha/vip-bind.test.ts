/**
 * A primary that cannot bind its group's virtual IP (another program holds one of the analyzer's
 * ports there), on real sockets at a fixed port base: the failed claim is one `listener-failed`
 * naming every port of the VIP, not one event per bind attempt; once the port is free again the
 * primary takes the VIP at its next hb-interval.
 */
import * as dgram from "node:dgram"
import { describe, expect, it, onTestFinished } from "vitest"
import { ANALYZER_PORTS } from "../../src/devices/fortianalyzer/analyzer.ts"
import { PortPlan } from "../../src/net/port-plan.ts"
import { useLab, waitForEvent } from "../support/lab.ts"
import { freePortBase } from "../support/ports.ts"

const YAML = `name: ha-vip-bind-test
devices:
  faz-a: { kind: fortianalyzer, serial: FAZ-VM0000000001, ha: { priority: 120 } }
  faz-b: { kind: fortianalyzer, serial: FAZ-VM0000000002 }
ha:
  lab: { members: [faz-a, faz-b], group-id: 5, hb-interval: 200ms, hb-lost-threshold: 3 }
`

/** The address the lab gives the group's VIP (per-device addressing: one loopback address each). */
const VIP = new PortPlan({ base: 0, addressing: "per-device", devices: ["faz-a", "faz-b"], groups: ["lab"] }).addressOf("lab")

/** A UDP socket on the VIP's documented UDP/514 under a port base whose other ports are free. */
const holdVipPort = async (): Promise<{ readonly socket: dgram.Socket; readonly base: number }> => {
  const base = await freePortBase(ANALYZER_PORTS, VIP)
  const socket = dgram.createSocket("udp4")
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject)
    socket.bind(base + 514, VIP, () => resolve())
  })
  return { socket, base }
}

describe("HA: the virtual IP held by another program", () => {
  it("reports the failed claim once, naming every port of the VIP, and binds the VIP once the port is free", async () => {
    const { socket: holder, base } = await holdVipPort()
    let held = true
    const release = () => {
      if (held) holder.close()
      held = false
    }
    onTestFinished(release)
    const started = await useLab(YAML, { portBase: base, addressing: "per-device" })
    const { events } = started
    const failed = await waitForEvent(started, "listener-failed", undefined, { timeoutMs: 20_000 })
    expect(failed).toMatchObject({
      device: "faz-a",
      port: "udp/514",
      ports: ["udp/514", "tcp/514", "tcp/8443", "tcp/443"],
      address: VIP,
      actualPort: base + 514,
      code: "EADDRINUSE"
    })
    expect(failed.reason).toMatch(/^faz-a could not bind the virtual IP of lab \(udp\/514: the address is already in use by another program; .*\); faz-a listens on its own TCP\/5199 only$/u)

    // The port is free again: the primary takes the VIP, and the failed claim was reported once.
    release()
    const bound = await waitForEvent(started, "listener-bound", (e) => e.device === "lab" && e.port === "udp/514", { timeoutMs: 20_000 })
    expect(events.filter((e) => e.type === "listener-failed")).toEqual([failed])
    expect(bound.actualPort).toBe(base + 514)
  }, 60_000)
})
