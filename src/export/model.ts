/**
 * A lab file as the container engines see it: one container per device running
 * `fazlab node --kind K --id ID --config /etc/fazlab/lab.yaml --lab ws://fazlab-control:7400/
 * --addressing dns --hold --data-dir /var/lib/fazlab --pki /etc/fazlab/pki` (peers by name, the
 * lab CA from a mounted folder: `fazlab export pki`), one `fazlab-control` container that
 * serves the lab's control channel and waits for the nodes to dial in (`fazlab up --placement
 * external`, docs/placement.md), the documented ports each
 * device listens on (an HA group's virtual-IP ports on a name of its own), and the flows of the
 * port catalog the lab has both sides of, which become firewall rules (Kubernetes
 * NetworkPolicies). Peers find each other by DNS name: a device's id, an HA group's name.
 */
import * as Schema from "effect/Schema"
import YAML from "yaml"
import type { Transport } from "../catalog/schema.ts"
import { registry } from "../devices/registry.ts"
import { groupOfMember, haGroups, plannedPorts } from "../lab/topology.ts"
import type { Scenario } from "../lab/scenario/schema.ts"
import type { Expectations } from "../probe/expectations.ts"
import { catalogFlows, type Flow } from "../probe/flows.ts"
import { destinationsOf, sourcesOf } from "../probe/roles.ts"

/** Where every container finds the lab file. */
export const LAB_FILE_IN_CONTAINER = "/etc/fazlab/lab.yaml"
/** The control channel's name (a DNS name) and port. */
export const CONTROL_NAME = "fazlab-control"
export const CONTROL_PORT = 7400
export const CONTROL_URL = `ws://${CONTROL_NAME}:${CONTROL_PORT}/`
/** Where every device's container finds the lab CA (ca.pem, ca.key: `fazlab export pki`). */
export const PKI_DIR_IN_CONTAINER = "/etc/fazlab/pki"
/** The lab CA's folder beside the exported file, as `fazlab export pki` writes it by default. */
export const PKI_DIR = "pki"
/** The image built from the project's Dockerfile. */
export const DEFAULT_IMAGE = "fazlab:latest"
/** Where a container writes (its stores and the lab PKI): its working directory. */
export const DATA_DIR = "/var/lib/fazlab"

export interface ExportPort {
  readonly protocol: "TCP" | "UDP"
  readonly port: number
}

export interface ExportDevice {
  readonly id: string
  readonly kind: string
  /** Every documented port its node may bind (its own, and its HA group's while primary). */
  readonly ports: ReadonlyArray<ExportPort>
  /** The HA group it is a member of. */
  readonly group: string | null
}

export interface ExportGroup {
  readonly name: string
  readonly members: ReadonlyArray<string>
  /** The virtual IP's ports: only the acting primary listens on them. */
  readonly ports: ReadonlyArray<ExportPort>
}

/** One allowed flow between lab devices (or from outside the lab: `sources` null). */
export interface ExportFlow {
  readonly flow: Flow
  /** Device ids that dial; null: anyone (the role is not a fazlab kind, an admin's PC for example). */
  readonly sources: ReadonlyArray<string> | null
  readonly destinations: ReadonlyArray<string>
  readonly port: ExportPort
}

/**
 * A device dialing another (or an HA group) because its settings name it: FGFM from a FortiGate
 * to its FortiManager, log forwarding between analyzers ... flows the lab needs whether or not the
 * analyzer's port table lists them.
 */
export interface ExportLink {
  readonly from: string
  /** A device id or an HA group's name. */
  readonly to: string
  /** The devices behind `to` (the group's members). */
  readonly devices: ReadonlyArray<string>
  readonly ports: ReadonlyArray<ExportPort>
}

export interface ExportModel {
  readonly lab: string
  readonly image: string
  readonly devices: ReadonlyArray<ExportDevice>
  readonly groups: ReadonlyArray<ExportGroup>
  readonly flows: ReadonlyArray<ExportFlow>
  readonly links: ReadonlyArray<ExportLink>
}

/**
 * The node command line of a device, as the container's arguments after `fazlab`: peers by name,
 * held until the lab begins it (in start order), its stores in the container's data folder, its
 * certificates from the shared lab CA.
 */
export const nodeArgs = (device: Pick<ExportDevice, "id" | "kind">): ReadonlyArray<string> => [
  "node", "--kind", device.kind, "--id", device.id, "--config", LAB_FILE_IN_CONTAINER, "--lab", CONTROL_URL,
  "--addressing", "dns", "--hold", "--data-dir", DATA_DIR, "--pki", PKI_DIR_IN_CONTAINER
]

/** The control container's arguments after `fazlab`: the lab serves its channel and waits for the nodes. */
export const controlArgs: ReadonlyArray<string> = [
  "up", LAB_FILE_IN_CONTAINER, "--headless", "--placement", "external", "--control-bind", `0.0.0.0:${CONTROL_PORT}`, "--data-dir", DATA_DIR
]

const DnsName = Schema.String.check(Schema.isPattern(/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/u))
const isDnsName = Schema.is(DnsName)

const portOf = (key: string): ExportPort => {
  const [transport = "tcp", port = "0"] = key.split("/")
  return { protocol: transport === "udp" ? "UDP" : "TCP", port: Number(port) }
}

const byPort = (a: ExportPort, b: ExportPort) => a.port - b.port || a.protocol.localeCompare(b.protocol)

const unique = (ports: ReadonlyArray<ExportPort>): ReadonlyArray<ExportPort> =>
  [...new Map(ports.map((port) => [`${port.protocol}/${port.port}`, port])).values()].sort(byPort)

const protocolOf = (transport: Transport | "https"): "TCP" | "UDP" => (transport === "udp" ? "UDP" : "TCP")

/**
 * The lab's containers, ports and allowed flows; a string (one sentence) when a name cannot be a
 * DNS name, since containers find each other by it.
 */
export const exportModel = (scenario: Scenario, image: string, expectations: Expectations): ExportModel | string => {
  const groups = haGroups(scenario)
  const groupOf = groupOfMember(groups)
  const names = [...scenario.devices.keys(), ...groups.keys()]
  const bad = names.find((name) => !isDnsName(name) || name === CONTROL_NAME)
  if (bad !== undefined) {
    return bad === CONTROL_NAME
      ? `the name ${CONTROL_NAME} is the control channel's in a container lab; rename that device or HA group`
      : `"${bad}" cannot be a DNS name, and containers find each other by name: rename it with lower-case letters, digits and "-", starting with a letter, at most 63 characters`
  }
  const planned = plannedPorts(scenario, registry, groupOf)
  const devices: Array<ExportDevice> = [...scenario.devices].map(([id, spec]) => {
    const group = groupOf.get(id)?.group ?? null
    return {
      id,
      kind: spec.kind,
      ports: unique(planned.filter((p) => p.at === id || (group !== null && p.at === group)).map((p) => portOf(p.port))),
      group
    }
  })
  const exportGroups: Array<ExportGroup> = [...groups.values()].map((group) => ({
    name: group.group,
    members: group.members.map((member) => member.name),
    ports: unique(planned.filter((p) => p.at === group.group).map((p) => portOf(p.port)))
  }))
  const kinds = new Set(registry.names)
  const flows = catalogFlows().flatMap((flow): ReadonlyArray<ExportFlow> => {
    if (flow.host !== null || expectations.of(flow.id) === "deny") return []
    if (!flow.rows.some((row) => row.status === "emulated")) return []
    const destinations = destinationsOf(devices, flow).map((device) => device.id)
    const sources = sourcesOf(devices, flow).map((device) => device.id)
    if (destinations.length === 0) return []
    // A kind the lab has no device of dials nothing; a role fazlab has no kind for may dial from outside.
    if (sources.length === 0 && kinds.has(flow.from)) return []
    return [{ flow, sources: sources.length === 0 ? null : sources, destinations, port: { protocol: protocolOf(flow.transport), port: flow.port } }]
  })
  const links = [...scenario.devices].flatMap(([id, spec]) =>
    registry.of(spec).references(spec).flatMap((reference): ReadonlyArray<ExportLink> => {
      const group = exportGroups.find((g) => g.name === reference.name)
      const device = devices.find((d) => d.id === reference.name)
      if (group !== undefined) return [{ from: id, to: group.name, devices: group.members, ports: group.ports }]
      return device === undefined || device.id === id ? [] : [{ from: id, to: device.id, devices: [device.id], ports: device.ports }]
    })
  )
  const seen = new Set<string>()
  return {
    lab: scenario.name,
    image,
    devices,
    groups: exportGroups,
    flows,
    links: links.filter((link) => link.ports.length > 0 && seen.size < seen.add(`${link.from} ${link.to}`).size)
  }
}

/** A label value from any text: lower-case letters, digits and "-", at most 63 characters. */
export const labelValue = (text: string): string => text.toLowerCase().replace(/[^a-z0-9]+/gu, "-").replace(/^-+|-+$/gu, "").slice(0, 63).replace(/-+$/u, "") || "lab"

/** YAML as an engine reads it and a person diffs it: no anchors for repeated parts, multi-line text as literal blocks, no folding. */
export const toYaml = (document: unknown): string => YAML.stringify(document, { aliasDuplicateObjects: false, blockQuote: "literal", lineWidth: 0 })
