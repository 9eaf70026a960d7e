/**
 * The analyzer's SNMP traps (`config system snmp community`): each alert (`alerts.ts`) whose
 * event a community lists goes to each of its hosts as an SNMPv1 and/or SNMPv2c trap on UDP/162
 * (`trap-v1-rport` / `trap-v2c-rport`), with Fortinet's OIDs (`protocols/snmp/fortinet-traps.ts`),
 * from the analyzer's own address. A real `snmptrapd` is a receiver, so is any trap receiver.
 *
 * The wire encoding is net-snmp's (pure JavaScript, the most used SNMP library for Node; no native
 * addon). A trap is fire-and-forget (no answer comes back); each one sent, or that failed to be
 * sent, is an `snmp-trap` event.
 */
import * as Schema from "effect/Schema"
import snmp from "net-snmp"
import type { EventBus } from "../../events/bus.ts"
import type { LabClock } from "../../machines/clock.ts"
import type { PortPlan } from "../../net/port-plan.ts"
import { resolveServer } from "../../net/server-address.ts"
import { type FortinetTrap, type FortinetTrapName, fortinetTrap, SNMP_EVENTS, v1TrapOid } from "../../protocols/snmp/fortinet-traps.ts"
import { Enable, NonEmpty, Server, settingsStruct, wholeNumber, withDefault } from "../settings.ts"
import type { Alert, AlertKind } from "./alerts.ts"

/** One `config system snmp community` entry (FortiAnalyzer's names). */
export const SnmpCommunity = settingsStruct({
  id: wholeNumber(1, 9999),
  name: NonEmpty,
  status: withDefault(Enable, "enable"),
  trapV1Status: withDefault(Enable, "enable"),
  trapV2cStatus: withDefault(Enable, "enable"),
  trapV1Rport: withDefault(wholeNumber(1, 65535), 162),
  trapV2cRport: withDefault(wholeNumber(1, 65535), 162),
  /** `config hosts` → `ip`: a device of the lab, or a host outside it. */
  hosts: Schema.Array(Server).check(Schema.isMinLength(1, { expected: "a list of at least one trap receiver" })),
  events: withDefault(Schema.Array(Schema.Literals(SNMP_EVENTS)), [...SNMP_EVENTS])
})
export type SnmpCommunity = typeof SnmpCommunity.Type

/** The trap each alert is sent as. */
const TRAP_OF: { readonly [kind in AlertKind]: FortinetTrapName } = {
  "device-offline": "fmTrapLogAlert",
  "ha-switch": "fmTrapHASwitch",
  "cpu-high": "fnTrapCpuThreshold",
  "mem-low": "fnTrapMemThreshold",
  "disk-low": "fnTrapLogDiskThreshold"
}

const OBJECT_TYPES = { "octet-string": snmp.ObjectType.OctetString, integer: snmp.ObjectType.Integer } as const

export interface SnmpTrapOptions {
  readonly analyzer: string
  readonly serial: string
  readonly bus: EventBus
  readonly plan: PortPlan
  readonly clock: LabClock
  readonly communities: ReadonlyArray<SnmpCommunity>
}

export class SnmpTrapSender {
  readonly #options: SnmpTrapOptions
  readonly #sent = new Map<FortinetTrapName, number>()

  constructor(options: SnmpTrapOptions) {
    this.#options = options
  }

  /** Traps of this name sent (one per version and host), or of every name. */
  sent(name?: FortinetTrapName): number {
    if (name !== undefined) return this.#sent.get(name) ?? 0
    let total = 0
    for (const n of this.#sent.values()) total += n
    return total
  }

  /** Sends the alert's trap to every enabled community that lists its event. */
  readonly alert = (alert: Alert): void => {
    const { analyzer, serial } = this.#options
    const trap = fortinetTrap(TRAP_OF[alert.kind], { serial, hostname: analyzer }, alert.kind === "device-offline" ? alert.message : null)
    for (const community of this.#options.communities) {
      if (community.status !== "enable" || !community.events.includes(trap.event)) continue
      for (const host of community.hosts) {
        if (community.trapV1Status === "enable") this.#send(trap, community, host, "v1", community.trapV1Rport)
        if (community.trapV2cStatus === "enable") this.#send(trap, community, host, "v2c", community.trapV2cRport)
      }
    }
  }

  #send(trap: FortinetTrap, community: SnmpCommunity, host: string, version: "v1" | "v2c", rport: number): void {
    const { analyzer, bus, plan, clock } = this.#options
    const target = resolveServer(plan, host, `udp/${rport}`)
    const source = plan.sourceAddressOf(analyzer)
    const session = snmp.createSession(target.address, community.name, {
      version: version === "v1" ? snmp.Version1 : snmp.Version2c,
      trapPort: target.actualPort,
      ...(source === undefined ? {} : { sourceAddress: source })
    })
    const varbinds = trap.varbinds.map((varbind) => ({ oid: varbind.oid, type: OBJECT_TYPES[varbind.type], value: varbind.value }))
    const oid = version === "v1" ? v1TrapOid(trap.oid) : trap.oid
    let reported = false
    const report = (error: Error | null) => {
      if (reported) return
      reported = true
      session.close()
      if (error === null) this.#sent.set(trap.name, (this.#sent.get(trap.name) ?? 0) + 1)
      bus.publish({
        type: "snmp-trap",
        device: analyzer,
        trap: trap.name,
        oid: trap.oid,
        version,
        community: community.name,
        to: `${host} (${target.address}:${target.actualPort})`,
        error: error === null ? null : `the ${version} trap ${trap.name} to ${host} could not be sent: ${error.message}`
      })
    }
    session.on("error", (error: Error) => report(error))
    // sysUpTime in hundredths of a second of lab time.
    session.trap(oid, varbinds, { agentAddr: plan.addressOf(analyzer), upTime: Math.floor(clock.now() / 10) }, (error: Error | null) => report(error ?? null))
  }
}
