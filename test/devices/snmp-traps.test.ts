/**
 * SNMP traps (`config system snmp community`) received by a real net-snmp `snmptrapd`: a
 * FortiGate's OFTP session closing is a device-offline log alert (fmTrapLogAlert with
 * fnGenTrapMsg), the `load` action's CPU over its threshold is fnTrapCpuThreshold, an HA failover
 * is fmTrapHASwitch; each as SNMPv1 and SNMPv2c, with fnSysSerial.0 and sysName.0.
 */
import * as Effect from "effect/Effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { isEvent, useLab, waitForEvent, waitForRole } from "../support/lab.ts"
import { type Snmptrapd, startSnmptrapd } from "../support/snmptrapd.ts"

let trapd: Snmptrapd
beforeAll(async () => {
  trapd = await startSnmptrapd()
})
afterAll(() => trapd.stop())

const community = (port: number, events: string) => `
    snmp:
      sysinfo: { trap-high-cpu-threshold: 90 }
      community:
        - { id: 1, name: public, hosts: [127.0.0.1], trap-v1-rport: ${port}, trap-v2c-rport: ${port}, events: [${events}] }`

/** The v1 and v2c forms of one trap as snmptrapd prints them (numeric OIDs). */
const printed = (output: string, oid: string, serial: string) => {
  const arcs = oid.split(".")
  const v1 = `.${arcs.slice(0, -2).join(".")} Enterprise Specific Trap (${arcs.at(-1)})`
  const blocks = output.split(/\n(?=\d{4}-\d\d-\d\d )/u)
  return {
    v1: blocks.filter((block) => block.includes("SNMP v1, community public") && block.includes(v1) && block.includes(`.1.3.6.1.4.1.12356.100.1.1.1.0 = STRING: "${serial}"`)),
    v2c: blocks.filter((block) => block.includes(`.1.3.6.1.6.3.1.1.4.1.0 = OID: .${oid}`) && block.includes(`.1.3.6.1.4.1.12356.100.1.1.1.0 = STRING: "${serial}"`))
  }
}

describe("SNMP traps → snmptrapd", () => {
  it("sends a device-offline log alert and a CPU threshold trap, v1 and v2c, from the analyzer's address", async () => {
    const started = await useLab(`
name: snmp-test
devices:
  faz-1:
    kind: fortianalyzer
    serial: FAZ-VM0000000101
    oftp: { auto-authorize: true }
${community(trapd.port, "log-alert, cpu_high")}
  fgt-1:
    kind: fortigate
    serial: FGT60F0000000101
    fortianalyzer: { server: faz-1, certificate-verification: disable, rate: 10/s }
`)
    await waitForEvent(started, "oftp-session", (event) => event.state === "online")
    await Effect.runPromise(started.lab.device("fgt-1")!.stop())
    const alert = await waitForEvent(started, "analyzer-alert", (event) => event.alert === "device-offline")
    expect(alert.message).toMatch(/^Device FGT60F0000000101 is offline: its OFTP session to faz-1 closed \(.+\)$/u)
    const offline = "1.3.6.1.4.1.12356.103.0.0.403"
    const output = await trapd.waitFor((text) => {
      const seen = printed(text, offline, "FAZ-VM0000000101")
      return seen.v1.length === 1 && seen.v2c.length === 1
    })
    const { v1, v2c } = printed(output, offline, "FAZ-VM0000000101")
    expect(v1[0]).toContain(`${started.lab.plan.addressOf("faz-1")} [${started.lab.plan.addressOf("faz-1")}]`)
    expect(v2c[0]).toContain('.1.3.6.1.2.1.1.5.0 = STRING: "faz-1"')
    expect(v2c[0]).toContain(`.1.3.6.1.4.1.12356.100.1.3.1.1.0 = STRING: "${alert.message}"`)

    // Under the threshold: nothing; at it: one trap per version; staying over it: no more.
    await Effect.runPromise(started.lab.perform({ load: { device: "faz-1", cpu: 50 } }))
    await Effect.runPromise(started.lab.perform({ load: { device: "faz-1", cpu: 95 } }))
    await Effect.runPromise(started.lab.perform({ load: { device: "faz-1", cpu: 97 } }))
    const cpu = "1.3.6.1.4.1.12356.100.1.3.0.101"
    await trapd.waitFor((text) => printed(text, cpu, "FAZ-VM0000000101").v2c.length === 1 && printed(text, cpu, "FAZ-VM0000000101").v1.length === 1)
    const traps = started.events.filter(isEvent("snmp-trap"))
    expect(traps.map((trap) => `${trap.trap} ${trap.version}`).sort()).toEqual(["fmTrapLogAlert v1", "fmTrapLogAlert v2c", "fnTrapCpuThreshold v1", "fnTrapCpuThreshold v2c"])
    expect(traps.every((trap) => trap.error === null)).toBe(true)
  })

  it("sends fmTrapHASwitch when a secondary becomes primary, and no trap for events the community does not list", async () => {
    const started = await useLab(`
name: snmp-ha-test
devices:
  faz-a:
    kind: fortianalyzer
    serial: FAZ-VM0000000201
    ha: { priority: 120 }
${community(trapd.port, "ha-switch")}
  faz-b:
    kind: fortianalyzer
    serial: FAZ-VM0000000202
    ha: { priority: 100 }
${community(trapd.port, "ha-switch")}
ha:
  lab: { members: [faz-a, faz-b], hb-interval: 200ms }
`)
    await waitForRole(started, "faz-a", "primary")
    await waitForRole(started, "faz-b", "secondary")
    await Effect.runPromise(started.lab.perform({ load: { device: "faz-b", cpu: 99 } }))
    await Effect.runPromise(started.lab.perform({ kill: "faz-a" }))
    await waitForRole(started, "faz-b", "primary")
    await trapd.waitFor((text) => printed(text, "1.3.6.1.4.1.12356.103.0.0.401", "FAZ-VM0000000202").v2c.length === 1)
    const traps = started.events.filter(isEvent("snmp-trap"))
    expect(traps.map((trap) => `${trap.device} ${trap.trap}`)).not.toContain("faz-b fnTrapCpuThreshold")
    expect(traps.filter((trap) => trap.device === "faz-a")).toEqual([])
  })
})
