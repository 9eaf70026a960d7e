/**
 * The loader's third pass: the cross-references a schema cannot check, on the decoded scenario.
 * Every name a device's settings give (through its kind's `references`), every device, member and
 * group a step's action or expectation names, and the HA groups' own rules (members, priorities,
 * timers); each problem is reported at its path in the file.
 */
import { dnsServer } from "../../devices/dns-server/kind.ts"
import { ldapServer } from "../../devices/ldap-server/kind.ts"
import { radiusServer } from "../../devices/radius-server/kind.ts"
import { fortianalyzer } from "../../devices/fortianalyzer/kind.ts"
import { fortigate } from "../../devices/fortigate/kind.ts"
import { fortimanager } from "../../devices/fortimanager/kind.ts"
import { smtpRelay } from "../../devices/smtp-relay/kind.ts"
import { fileServer } from "../../devices/file-server/kind.ts"
import type { KindRegistry } from "../../devices/registry.ts"
import { isIdLike } from "../../devices/settings.ts"
import { type Path, type Problem, valueAt } from "./problems.ts"
import type { Action, Expectation, Scenario } from "./schema.ts"

/** A kind with its article, as said aloud: "an ldap-server", "an ntp-server" (letters read one by one), "a fortigate". */
export const aKind = (kind: string): string => `${/^(?:[aeiou]|ldap|ntp|smtp|snmp|ftp|http)/u.test(kind) ? "an" : "a"} ${kind}`

/** hb-interval: 1-20 s as FortiOS allows; from 100 ms, fazlab only, for fast CI. */
const HB_INTERVAL_MIN_MS = 100
const HB_INTERVAL_MAX_MS = 20_000

export const crossReferenceProblems = (scenario: Scenario, raw: unknown, registry: KindRegistry): Array<Problem> => {
  const problems: Array<Problem> = []
  const ids = [...scenario.devices.keys()]
  const ofKind = (kind: string): Array<string> => ids.filter((id) => scenario.devices.get(id)?.kind === kind)
  const analyzers = ofKind(fortianalyzer.name)
  const groups = Object.keys(scenario.ha)
  const listOf = (names: ReadonlyArray<string>): string => (names.length === 0 ? "none in this lab" : names.join(", "))
  const groupOf = new Map<string, string>()
  if (scenario.clock === "simulated" && scenario.speed !== 1) {
    problems.push({ path: ["speed"], atKey: true, expected: "no speed with clock: simulated (simulated time runs as fast as the lab allows)", got: String(scenario.speed) })
  }
  for (const [name, group] of Object.entries(scenario.ha)) {
    if (scenario.devices.has(name)) {
      problems.push({ path: ["ha", name], atKey: true, expected: "an HA group name that is not a device id", got: `${JSON.stringify(name)}, also a device` })
    }
    if (group.hbInterval < HB_INTERVAL_MIN_MS || group.hbInterval > HB_INTERVAL_MAX_MS) {
      problems.push({
        path: ["ha", name, "hbInterval"],
        atKey: false,
        expected: "a duration from 1s to 20s (from 100ms: fazlab only, for fast CI)",
        got: JSON.stringify(valueAt(raw, ["ha", name, "hbInterval"]))
      })
    }
    group.members.forEach((member, i) => {
      const path = ["ha", name, "members", i]
      const spec = scenario.devices.get(member)
      if (spec === undefined || !fortianalyzer.is(spec)) {
        problems.push({ path, atKey: false, expected: `a ${fortianalyzer.name} of this lab (${listOf(analyzers)})`, got: spec === undefined ? JSON.stringify(member) : `${JSON.stringify(member)}, ${aKind(spec.kind)}` })
        return
      }
      const other = groupOf.get(member)
      if (other !== undefined) {
        problems.push({ path, atKey: false, expected: "an analyzer in no other HA group (a device is in at most one)", got: `${JSON.stringify(member)}, already in ${other === name ? "this group" : `group ${other}`}` })
        return
      }
      groupOf.set(member, name)
    })
  }
  const isGroup = (id: string): boolean => Object.hasOwn(scenario.ha, id)
  /** A device id, or the name of an HA group (its virtual IP). */
  const target = (path: Path, id: string): void => {
    if (!isGroup(id)) device(path, id)
  }
  const device = (path: Path, id: string, ...kinds: ReadonlyArray<string>): void => {
    const spec = scenario.devices.get(id)
    if (spec === undefined) {
      problems.push({ path, atKey: false, expected: `a device of this lab (${listOf(ids)})`, got: JSON.stringify(id) })
    } else if (kinds.length > 0 && !kinds.includes(spec.kind)) {
      const expected = kinds.map(aKind).join(" or ")
      problems.push({ path, atKey: false, expected: `${expected} of this lab (${listOf(kinds.flatMap(ofKind))})`, got: `${JSON.stringify(id)}, ${aKind(spec.kind)}` })
    }
  }

  // A name without a dot or a port is a device id (or an HA group): hosts outside the lab are written as FQDN, IP or host:port.
  for (const [id, spec] of scenario.devices) {
    for (const reference of registry.of(spec).references(spec)) {
      const { name, kind } = reference
      const path = ["devices", id, ...reference.path]
      if (reference.notSelf !== undefined && name === id) {
        problems.push({ path, atKey: false, expected: reference.notSelf, got: JSON.stringify(id) })
        continue
      }
      if (reference.group && isGroup(name)) continue
      if (scenario.devices.has(name)) device(path, name, kind)
      else if (isIdLike(name)) {
        const inLab = reference.group && groups.length > 0
          ? `${aKind(kind)} or HA group of this lab (${listOf([...new Set([...ofKind(kind), ...groups])])})`
          : `${aKind(kind)} of this lab (${listOf(ofKind(kind))})`
        problems.push({ path, atKey: false, expected: `${inLab}, or a host outside it such as ${reference.outside}`, got: JSON.stringify(name) })
      }
    }
  }

  const serials = new Map<string, string>()
  for (const [id, spec] of scenario.devices) {
    const owner = serials.get(spec.serial)
    if (owner !== undefined) {
      problems.push({ path: ["devices", id, "serial"], atKey: false, expected: "a serial no other device has", got: `${JSON.stringify(spec.serial)}, also the serial of ${owner}` })
    }
    serials.set(spec.serial, id)
  }

  /** An analyzer, or an HA group (its acting primary). */
  const analyzer = (path: Path, id: string): void => {
    if (!isGroup(id)) device(path, id, fortianalyzer.name)
  }
  /** An analyzer that is a member of an HA group. */
  const member = (path: Path, id: string): void => {
    const spec = scenario.devices.get(id)
    if (spec !== undefined && fortianalyzer.is(spec) && !groupOf.has(id)) {
      const members = [...groupOf.keys()]
      problems.push({ path, atKey: false, expected: `a member of an HA group of this lab (${listOf(members)})`, got: `${JSON.stringify(id)}, in no HA group` })
    } else device(path, id, fortianalyzer.name)
  }
  /** Two different members of one HA group (partition, heal). */
  const pair = (path: Path, ids: ReadonlyArray<string>): void => {
    const before = problems.length
    ids.forEach((id, i) => member([...path, i], id))
    if (problems.length > before) return
    const [a = "", b = ""] = ids
    if (a === b) problems.push({ path: [...path, 1], atKey: false, expected: "a member other than the first one", got: JSON.stringify(b) })
    else if (groupOf.get(a) !== groupOf.get(b)) {
      problems.push({ path: [...path, 1], atKey: false, expected: `a member of ${a}'s HA group ${groupOf.get(a) ?? ""}`, got: `${JSON.stringify(b)}, in group ${groupOf.get(b) ?? ""}` })
    }
  }
  /** The name of an HA group. */
  const group = (path: Path, name: string): void => {
    if (!isGroup(name)) problems.push({ path, atKey: false, expected: `an HA group of this lab (${listOf(groups)})`, got: JSON.stringify(name) })
  }
  // A step that leaves out `analyzer` is right only in a lab of one analyzer.
  const analyzerNeeded = (at: Path): void => {
    if (analyzers.length !== 1) {
      problems.push({
        path: [...at, "analyzer"],
        atKey: false,
        expected: `an analyzer id, as this lab has ${analyzers.length === 0 ? "no analyzer" : `several (${analyzers.join(", ")})`}`,
        got: "nothing"
      })
    }
  }
  scenario.steps.forEach((step, s) => {
    const stepPath = ["steps", s]
    if (step.action !== null) {
      actionReferences(step.action, [...stepPath, "do"], { device, target, member, pair }, analyzerNeeded)
    }
    const listed = Array.isArray(valueAt(raw, [...stepPath, "expect"]))
    step.expect.forEach((expectation, e) => {
      const path = listed ? [...stepPath, "expect", e] : [...stepPath, "expect"]
      expectationReferences(expectation, path, { device, target, analyzer, member, group }, analyzerNeeded)
    })
  })
  return problems
}

type DeviceCheck = (path: Path, id: string, ...kinds: ReadonlyArray<string>) => void
type NameCheck = (path: Path, id: string) => void

interface ActionChecks {
  readonly device: DeviceCheck
  /** A device or an HA group. */
  readonly target: NameCheck
  /** An analyzer in an HA group. */
  readonly member: NameCheck
  /** Two different members of one HA group. */
  readonly pair: (path: Path, ids: ReadonlyArray<string>) => void
}

const actionReferences = (action: Action, path: Path, checks: ActionChecks, defaultAnalyzer: (path: Path) => void): void => {
  const { device, target, member, pair } = checks
  if ("start" in action) device([...path, "start"], action.start)
  else if ("stop" in action) device([...path, "stop"], action.stop)
  else if ("kill" in action) device([...path, "kill"], action.kill)
  else if ("restart" in action) device([...path, "restart"], action.restart)
  else if ("authorize" in action || "deleteDevice" in action) {
    const [key, target] = "authorize" in action ? ["authorize", action.authorize] as const : ["delete-device", action.deleteDevice] as const
    if (target.analyzer === null) defaultAnalyzer([...path, key])
    else device([...path, key, "analyzer"], target.analyzer, fortianalyzer.name)
    device([...path, key, "device"], target.device)
  }
  else if ("pause" in action) device([...path, "pause"], action.pause)
  else if ("resume" in action) device([...path, "resume"], action.resume)
  else if ("burst" in action) device([...path, "burst", "device"], action.burst.device)
  else if ("partition" in action) pair([...path, "partition"], action.partition)
  else if ("heal" in action) pair([...path, "heal"], action.heal)
  else if ("degrade" in action) pair([...path, "degrade", "members"], action.degrade.members)
  else if ("freeze" in action) member([...path, "freeze"], action.freeze)
  else if ("thaw" in action) member([...path, "thaw"], action.thaw)
  else if ("load" in action) device([...path, "load", "device"], action.load.device, fortianalyzer.name)
  else target([...path, "send-raw", "to"], action.sendRaw.to)
}

interface ExpectationChecks {
  readonly device: DeviceCheck
  /** A device or an HA group. */
  readonly target: NameCheck
  /** An analyzer or an HA group. */
  readonly analyzer: NameCheck
  /** An analyzer in an HA group. */
  readonly member: NameCheck
  /** The name of an HA group. */
  readonly group: NameCheck
}

const expectationReferences = (expectation: Expectation, path: Path, checks: ExpectationChecks, defaultAnalyzer: (path: Path) => void): void => {
  const { device, target, analyzer, member, group } = checks
  if ("role" in expectation) member([...path, "role", "device"], expectation.role.device)
  else if ("primaries" in expectation) group([...path, "primaries", "group"], expectation.primaries.group)
  else if ("registration" in expectation) {
    if (expectation.registration.analyzer === null) defaultAnalyzer([...path, "registration"])
    else device([...path, "registration", "analyzer"], expectation.registration.analyzer, fortianalyzer.name)
    device([...path, "registration", "device"], expectation.registration.device)
  } else if ("listening" in expectation) target([...path, "listening", "device"], expectation.listening.device)
  else if ("notListening" in expectation) target([...path, "not-listening", "device"], expectation.notListening.device)
  else if ("malformed" in expectation) device([...path, "malformed", "device"], expectation.malformed.device, fortianalyzer.name)
  else if ("managed" in expectation) {
    device([...path, "managed", "manager"], expectation.managed.manager, fortimanager.name)
    // A FortiManager manages FortiGates (they dial it) and analyzers (it dials them).
    device([...path, "managed", "device"], expectation.managed.device, fortigate.name, fortianalyzer.name)
  } else if ("forwarded" in expectation) device([...path, "forwarded", "analyzer"], expectation.forwarded.analyzer, fortianalyzer.name)
  else if ("trap" in expectation) device([...path, "trap", "analyzer"], expectation.trap.analyzer, fortianalyzer.name)
  else if ("mail" in expectation) device([...path, "mail", "relay"], expectation.mail.relay, smtpRelay.name)
  else if ("uploaded" in expectation) device([...path, "uploaded", "server"], expectation.uploaded.server, fileServer.name)
  else if ("dnsQuery" in expectation) device([...path, "dns-query", "server"], expectation.dnsQuery.server, dnsServer.name)
  else if ("fortiguard" in expectation) device([...path, "fortiguard", "analyzer"], expectation.fortiguard.analyzer, fortianalyzer.name)
  else if ("ldapBind" in expectation) device([...path, "ldap-bind", "server"], expectation.ldapBind.server, ldapServer.name)
  else if ("radiusRequest" in expectation) device([...path, "radius-request", "server"], expectation.radiusRequest.server, radiusServer.name)
  else if ("cli" in expectation) device([...path, "cli", "device"], expectation.cli.device, fortianalyzer.name)
  else if ("api" in expectation) device([...path, "api", "device"], expectation.api.device, fortianalyzer.name)
  else {
    if (expectation.logs.analyzer === null) defaultAnalyzer([...path, "logs"])
    else analyzer([...path, "logs", "analyzer"], expectation.logs.analyzer)
    device([...path, "logs", "from"], expectation.logs.from)
  }
}

// ---------------------------------------------------------------------------------------------
// JSON Schema
// ---------------------------------------------------------------------------------------------
