/**
 * The network of a netns lab, derived from its lab file alone (the lab and every node compute
 * the same one): namespace names, link names, zones and addresses.
 *
 * - One namespace per device, `fz-<lab>-<device>`, and the router's, `fz-<lab>`.
 * - One zone per entry of `netns.zones`; an HA group's members not in a zone share one named
 *   after the group (its virtual IP needs one network for the gratuitous ARP); any other device
 *   not in a zone gets one of its own, named after it.
 * - Zone n (in that order, from 0) is the n-th /24 of the lab subnet: the router is .1 on the
 *   zone's bridge, its devices .2 on in file order, then the virtual IPs of its HA groups.
 * - Link names must fit Linux's 15 characters: they are `fz` (veth, router side) or `fzb`
 *   (bridge) and 8 hex digits of a hash of the lab and device (or zone) name. The device's side
 *   of its veth is `eth0` in its own namespace.
 */
import { createHash } from "node:crypto"
import type { Scenario } from "../lab/scenario/schema.ts"
import { haGroups } from "../lab/topology.ts"

/** The device's interface in its namespace. */
export const DEVICE_INTERFACE = "eth0"

export interface NetnsZone {
  readonly name: string
  /** The bridge in the router's namespace. */
  readonly bridge: string
  /** The router's address on the bridge: the zone's gateway. */
  readonly gateway: string
  readonly devices: ReadonlyArray<string>
}

export interface NetnsDevice {
  readonly id: string
  readonly namespace: string
  readonly zone: string
  readonly address: string
  /** The router's side of the device's veth. */
  readonly link: string
  readonly gateway: string
}

export interface NetnsPlan {
  readonly lab: string
  readonly router: string
  readonly zones: ReadonlyArray<NetnsZone>
  readonly devices: ReadonlyMap<string, NetnsDevice>
  /** Every device's and HA virtual IP's address, for the port plan. */
  readonly addresses: ReadonlyMap<string, string>
  /** The zones' prefix length (always 24). */
  readonly prefix: number
}

export class NetnsPlanError extends Error {
  override readonly name = "NetnsPlanError"
}

/** The namespace prefix of a lab: every namespace it makes starts with it (its router's name is the prefix without the dash). */
export const namespacePrefix = (lab: string): string => `fz-${lab}-`

export const routerNamespace = (lab: string): string => `fz-${lab}`

const hash8 = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 8)

const toNumber = (address: string): number => address.split(".").reduce((n, part) => n * 256 + Number(part), 0)

const toAddress = (n: number): string => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join(".")

/** The network of a netns lab; throws a `NetnsPlanError` (one sentence) when the lab file's `netns` cannot be laid out. */
export const netnsPlan = (scenario: Scenario): NetnsPlan => {
  const lab = scenario.name
  const { subnet, zones: declared } = scenario.netns
  const [base = "", bits = "24"] = subnet.split("/")
  const prefix = Number(bits)
  if (base.split(".").some((part) => Number(part) > 255)) throw new NetnsPlanError(`netns.subnet ${subnet} is not an IPv4 subnet; use one such as 10.250.0.0/16`)
  const start = toNumber(base) & (prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0)
  const blocks = 2 ** (24 - prefix)

  const zoneOf = new Map<string, string>()
  const zones = new Map<string, string[]>()
  const place = (zone: string, id: string, where: string) => {
    if (!scenario.devices.has(id)) throw new NetnsPlanError(`${where} names ${id}, which is no device of lab ${lab}; its devices: ${[...scenario.devices.keys()].join(", ")}`)
    const other = zoneOf.get(id)
    if (other !== undefined) throw new NetnsPlanError(`${id} is in two zones, ${other} and ${zone}; put each device in one zone`)
    zoneOf.set(id, zone)
    zones.set(zone, [...(zones.get(zone) ?? []), id])
  }
  for (const [zone, members] of Object.entries(declared)) for (const id of members) place(zone, id, `netns.zones.${zone}`)
  const groups = [...haGroups(scenario).values()]
  for (const group of groups) {
    for (const member of group.members) if (!zoneOf.has(member.name)) place(group.group, member.name, `ha.${group.group}`)
    const memberZones = new Set(group.members.map((member) => zoneOf.get(member.name)))
    if (memberZones.size > 1) {
      throw new NetnsPlanError(`the members of HA group ${group.group} are in zones ${[...memberZones].join(" and ")}; put them in one zone, so its virtual IP can move between them on one network`)
    }
  }
  for (const id of scenario.devices.keys()) if (!zoneOf.has(id)) place(id, id, "the lab")
  if (zones.size > blocks) {
    throw new NetnsPlanError(`lab ${lab} has ${zones.size} zones and netns.subnet ${subnet} holds ${blocks} /24 networks; give a larger subnet such as 10.250.0.0/16`)
  }

  const addresses = new Map<string, string>()
  const devices = new Map<string, NetnsDevice>()
  const laid: NetnsZone[] = []
  for (const [index, [name, members]] of [...zones].entries()) {
    const network = start + index * 256
    const gateway = toAddress(network + 1)
    const vips = groups.filter((group) => group.vip && zoneOf.get(group.members[0]?.name ?? "") === name).map((group) => group.group)
    if (members.length + vips.length > 253) throw new NetnsPlanError(`zone ${name} has more than 253 devices and virtual IPs; split it into more zones`)
    for (const [i, id] of members.entries()) {
      const address = toAddress(network + 2 + i)
      addresses.set(id, address)
      devices.set(id, { id, namespace: `${namespacePrefix(lab)}${id}`, zone: name, address, link: `fz${hash8(`${lab}/${id}`)}`, gateway })
    }
    for (const [i, group] of vips.entries()) addresses.set(group, toAddress(network + 2 + members.length + i))
    laid.push({ name, bridge: `fzb${hash8(`${lab}/zone/${name}`)}`, gateway, devices: members })
  }
  return { lab, router: routerNamespace(lab), zones: laid, devices, addresses, prefix: 24 }
}
