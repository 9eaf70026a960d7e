/**
 * Per-device addressing across the whole 127.0.0.0/8: 127.0.1.1 ... 127.0.1.254, then 127.0.2.1
 * ... (never a host .0 or .255); a lab that cannot be placed is refused in one sentence before
 * anything starts; and a lab of 1,000 FortiGates with the default addressing starts, each
 * device sends from its own address, and the analyzer stores a log from every one.
 */
import * as net from "node:net"
import { describe, expect, it } from "vitest"
import type { FortiAnalyzer } from "../../src/devices/fortianalyzer/analyzer.ts"
import { loopbackAddress, MAX_LOOPBACK_ADDRESSES, placementProblem, PortPlan } from "../../src/net/port-plan.ts"
import { useLab, waitForEvent } from "../support/lab.ts"

const DEVICES = 1_000

describe("per-device loopback addresses", () => {
  it("count through 127/8 a /24 at a time, .1 to .254", () => {
    expect([0, 1, 253, 254, 255, 507, 508, 998].map(loopbackAddress)).toEqual([
      "127.0.1.1",
      "127.0.1.2",
      "127.0.1.254",
      "127.0.2.1",
      "127.0.2.2",
      "127.0.2.254",
      "127.0.3.1",
      "127.0.4.237"
    ])
    expect(loopbackAddress(254 * 255)).toBe("127.1.0.1")
    expect(loopbackAddress(MAX_LOOPBACK_ADDRESSES - 1)).toBe("127.255.255.254")
  })

  it("give every device of a 1,000-device plan its own valid address", () => {
    const ids = Array.from({ length: DEVICES }, (_, i) => `fgt-${i + 1}`)
    const plan = new PortPlan({ base: "ephemeral", addressing: "per-device", devices: ids, groups: ["lab"] })
    const addresses = [...ids, "lab"].map((id) => plan.addressOf(id))
    expect(new Set(addresses).size).toBe(DEVICES + 1)
    expect(addresses.every((address) => net.isIPv4(address) && address.startsWith("127.") && !/\.(0|255)$/u.test(address))).toBe(true)
    expect(plan.addressOf("fgt-1000")).toBe("127.0.4.238")
  })

  it("refuse a lab that cannot be placed, in one sentence", async () => {
    expect(await placementProblem("big", DEVICES, "per-device")).toBeNull()
    expect(await placementProblem("huge", MAX_LOOPBACK_ADDRESSES + 1, "shared")).toBeNull()
    expect(await placementProblem("huge", MAX_LOOPBACK_ADDRESSES + 1, "per-device")).toBe(
      "lab huge has 16645891 devices and virtual IPs, more than the 16645890 loopback addresses of 127.0.0.0/8 per-device addressing can give; split it into smaller labs, or use --addressing shared"
    )
  })
})

describe("a lab of 1,000 devices", () => {
  it("starts with the default addressing and stores a log from every FortiGate, each from its own address", async () => {
    const yaml = [
      "name: thousand",
      "devices:",
      "  faz-1: { kind: fortianalyzer }",
      ...Array.from({ length: DEVICES - 1 }, (_, i) => `  fgt-${i + 1}: { kind: fortigate, syslog: { server: faz-1, mode: udp, rate: 1/s, count: 1 } }`)
    ].join("\n")
    const started = await useLab(`${yaml}\n`)
    const analyzer = started.lab.analyzers()[0] as FortiAnalyzer
    // One log each: wait until every sender's log is stored (logs-stored events, no sleeping).
    await waitForEvent(started, "logs-stored", () => analyzer.store.countByDevice().length >= DEVICES - 1, { timeoutMs: 90_000 })
    const last = analyzer.store.query({ device: `fgt-${DEVICES - 1}` })[0]
    expect(last?.peer.startsWith(`${loopbackAddress(DEVICES - 1)}:`)).toBe(true)
    expect(started.events.filter((event) => event.type === "sender-state" && event.state === "backoff")).toEqual([])
  }, 180_000)
})
