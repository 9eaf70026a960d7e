/**
 * What the lab derives from a scenario's devices and their kinds before it builds anything: the
 * HA groups as their members see them, the order devices start in (a device starts after the
 * devices its settings dial), and the listeners `--port-base auto` must find room for.
 */
import { fortianalyzer } from "../devices/fortianalyzer/kind.ts"
import type { HaGroupConfig } from "../devices/fortianalyzer/ha-group.ts"
import { LabHaNetwork } from "./ha-network.ts"
import type { PlannedPort } from "../devices/kind.ts"
import type { KindRegistry } from "../devices/registry.ts"
import type { Scenario } from "./scenario/schema.ts"

/** An HA group of the lab: as its members see it, with the lab's emulated network between them. */
export interface LabHaGroup extends HaGroupConfig {
  readonly network: LabHaNetwork
}

/** The scenario's HA groups as their members see them, by the group's key. */
export const haGroups = (scenario: Scenario): Map<string, LabHaGroup> => {
  const groups = new Map<string, LabHaGroup>()
  for (const [name, group] of Object.entries(scenario.ha)) {
    const members = group.members.flatMap((id) => {
      const spec = scenario.devices.get(id)
      return spec !== undefined && fortianalyzer.is(spec)
        ? [{ name: id, serial: spec.serial, address: id, priority: spec.ha?.priority ?? 100, preferredRole: spec.ha?.preferredRole ?? "secondary" }]
        : []
    })
    groups.set(name, {
      group: name,
      groupId: group.groupId,
      groupName: group.groupName ?? name,
      hbIntervalMs: group.hbInterval,
      hbLostThreshold: group.hbLostThreshold,
      vip: group.vip,
      members,
      network: new LabHaNetwork()
    })
  }
  return groups
}

/** The names a lab device is known by: its id, its serial and its hostname; a name of no lab device as it is. */
export const aliasesOf = (scenario: Scenario, name: string): ReadonlyArray<string> => {
  const spec = scenario.devices.get(name)
  return spec === undefined ? [name] : [name, spec.serial, ...(spec.hostname === undefined ? [] : [spec.hostname])]
}

/** The first lab device (in file order) whose kind emulates the catalog row `row` (its peer), or null. */
export const peerOfRow = (scenario: Scenario, registry: KindRegistry, row: string): string | null =>
  [...scenario.devices].find(([, spec]) => registry.of(spec).catalogRows.includes(row))?.[0] ?? null

/** Each member's group. */
export const groupOfMember = <G extends HaGroupConfig>(groups: ReadonlyMap<string, G>): ReadonlyMap<string, G> =>
  new Map([...groups.values()].flatMap((group) => group.members.map((member) => [member.name, group] as const)))

/** Device ids in the order they start, and in the order they stop. */
export interface Lifecycle {
  /** Each device after every device its settings dial (an HA group stands for its members); file order otherwise. */
  readonly start: ReadonlyArray<string>
  /** Each device before the devices it dials (senders before analyzers); file order otherwise. */
  readonly stop: ReadonlyArray<string>
}

/**
 * The start and stop order. A device's depth is 0 when it dials no device of the lab, else one
 * more than the deepest device it dials; a loop (which the kinds shipped cannot make) is cut
 * where it closes.
 */
export const lifecycleOrder = (scenario: Scenario, registry: KindRegistry): Lifecycle => {
  const depth = new Map<string, number>()
  const visiting = new Set<string>()
  const dialed = (id: string): ReadonlyArray<string> => {
    const spec = scenario.devices.get(id)
    if (spec === undefined) return []
    return registry.of(spec).references(spec).flatMap((reference) =>
      scenario.devices.has(reference.name) ? [reference.name] : (scenario.ha[reference.name]?.members ?? [])
    )
  }
  const depthOf = (id: string): number => {
    const known = depth.get(id)
    if (known !== undefined) return known
    if (visiting.has(id)) return 0
    visiting.add(id)
    const mine = dialed(id).reduce((deepest, other) => Math.max(deepest, depthOf(other) + 1), 0)
    visiting.delete(id)
    depth.set(id, mine)
    return mine
  }
  const ids = [...scenario.devices.keys()]
  return { start: ids.toSorted((a, b) => depthOf(a) - depthOf(b)), stop: ids.toSorted((a, b) => depthOf(b) - depthOf(a)) }
}

/** Every listener of the lab's devices by address and port, each once (an HA group's virtual IP is shared). */
export const plannedPorts = (
  scenario: Scenario,
  registry: KindRegistry,
  groupOf: ReadonlyMap<string, HaGroupConfig>
): ReadonlyArray<PlannedPort> => {
  const seen = new Map<string, PlannedPort>()
  for (const [id, spec] of scenario.devices) {
    for (const planned of registry.of(spec).listens(id, groupOf.get(id) ?? null)) seen.set(`${planned.at} ${planned.port}`, planned)
  }
  return [...seen.values()]
}
