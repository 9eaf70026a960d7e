/**
 * The SNMP traps a FortiAnalyzer sends, as Fortinet's MIBs define them: FORTINET-CORE-MIB
 * (`fnTrap*` under 1.3.6.1.4.1.12356.100) and FORTINET-FORTIMANAGER-FORTIANALYZER-MIB (`fmTrap*`
 * under 1.3.6.1.4.1.12356.103). Every trap carries `fnSysSerial.0` and `sysName.0`, then its own
 * objects. Pure data: the sender (`devices/fortianalyzer/snmp-traps.ts`) puts them on the wire.
 *
 * SNMPv1 (RFC 3584 §3.1): a v2 trap OID whose next-to-last arc is 0 is sent as enterprise = the
 * OID less its last two arcs, specific-trap = its last arc; a receiver turns it back into the
 * same snmpTrapOID (`enterprise.0.specific`).
 */

/** Fortinet's enterprise arc. */
export const FORTINET = "1.3.6.1.4.1.12356"

/** `sysName.0` (SNMPv2-MIB) and `fnSysSerial.0` (FORTINET-CORE-MIB). */
export const SYS_NAME = "1.3.6.1.2.1.1.5.0"
export const FN_SYS_SERIAL = `${FORTINET}.100.1.1.1.0`
/** `fnGenTrapMsg.0`: the text of a log alert. */
export const FN_GEN_TRAP_MSG = `${FORTINET}.100.1.3.1.1.0`

/** The traps fazlab's analyzer sends, by MIB name, with the `config system snmp community` event that enables each. */
export const FORTINET_TRAPS = {
  fnTrapCpuThreshold: { oid: `${FORTINET}.100.1.3.0.101`, event: "cpu_high" },
  fnTrapMemThreshold: { oid: `${FORTINET}.100.1.3.0.102`, event: "mem_low" },
  fnTrapLogDiskThreshold: { oid: `${FORTINET}.100.1.3.0.103`, event: "disk_low" },
  fmTrapHASwitch: { oid: `${FORTINET}.103.0.0.401`, event: "ha-switch" },
  fmTrapLogAlert: { oid: `${FORTINET}.103.0.0.403`, event: "log-alert" }
} as const

export type FortinetTrapName = keyof typeof FORTINET_TRAPS

export const FORTINET_TRAP_NAMES = ["fnTrapCpuThreshold", "fnTrapMemThreshold", "fnTrapLogDiskThreshold", "fmTrapHASwitch", "fmTrapLogAlert"] as const satisfies ReadonlyArray<FortinetTrapName>

/** The `events` a community can list (FortiAnalyzer's names; `ha-switch` is fazlab's, FortiAnalyzer sends it always). */
export const SNMP_EVENTS = ["cpu_high", "mem_low", "disk_low", "log-alert", "ha-switch"] as const
export type SnmpEvent = (typeof SNMP_EVENTS)[number]

export interface TrapVarbind {
  readonly oid: string
  readonly type: "octet-string" | "integer"
  readonly value: string | number
}

export interface FortinetTrap {
  readonly name: FortinetTrapName
  readonly oid: string
  readonly event: SnmpEvent
  readonly varbinds: ReadonlyArray<TrapVarbind>
}

/** A trap of the analyzer `serial` named `hostname`, with `message` as `fnGenTrapMsg` for a log alert. */
export const fortinetTrap = (name: FortinetTrapName, sender: { readonly serial: string; readonly hostname: string }, message: string | null): FortinetTrap => {
  const { oid, event } = FORTINET_TRAPS[name]
  const varbinds: Array<TrapVarbind> = [
    { oid: FN_SYS_SERIAL, type: "octet-string", value: sender.serial },
    { oid: SYS_NAME, type: "octet-string", value: sender.hostname }
  ]
  if (message !== null) varbinds.push({ oid: FN_GEN_TRAP_MSG, type: "octet-string", value: message })
  return { name, oid, event, varbinds }
}

/** The SNMPv1 form of a v2 trap OID (RFC 3584 §3.1), as `enterprise.specific` (what a v1 sender splits at its last arc). */
export const v1TrapOid = (oid: string): string => {
  const arcs = oid.split(".")
  return arcs.at(-2) === "0" ? [...arcs.slice(0, -2), arcs.at(-1)].join(".") : oid
}
