/**
 * The port plan: where each device listens for each documented port, and where to reach it.
 *
 * The documented port is a service's identity ("tcp/514"); the bound port may differ. With
 * base 0 every device binds its documented ports; with `--port-base N` documented P binds
 * N+P; "ephemeral" (tests) lets the kernel choose and records what it chose. With per-device
 * addressing (Linux: all of 127.0.0.0/8 is loopback) every device gets its own loopback address
 * (127.0.1.1 ... 127.0.1.254, then 127.0.2.1 ..., across the whole 127/8: `loopbackAddress`), so
 * several analyzers can each own "their" TCP/514 and the analyzer sees each sender's address.
 * `placementProblem` says, before a lab starts, when its devices cannot all get one.
 *
 * An HA group's virtual IP is one more address, registered under the group's name: the acting
 * primary records its analyzer listeners there (`recordBound` with the group as `device`), so a
 * sender that names the group (`resolve("lab", "tcp/514")`) reaches whichever member holds it.
 */
import * as net from "node:net"
import * as dgram from "node:dgram"
import type { PortKey } from "../events/events.ts"

export type PortBase = number | "ephemeral"
export type Addressing = "shared" | "per-device"

export interface PlannedEndpoint {
  readonly device: string
  readonly port: PortKey
  readonly address: string
  readonly actualPort: number
}

export const transportOf = (port: PortKey): "tcp" | "udp" => (port.startsWith("tcp/") ? "tcp" : "udp")
export const numberOf = (port: PortKey): number => Number(port.slice(4))

/** The default addressing: one loopback address per device where the OS routes all of 127/8 to lo. */
export const defaultAddressing = (): Addressing => (process.platform === "linux" ? "per-device" : "shared")

/** Hosts per /24 of 127/8 given to devices: .1 to .254 (never .0 or .255). */
const HOSTS_PER_BLOCK = 254

/** Per-device addresses there are: the /24s 127.0.1.0 to 127.255.255.0, 254 hosts each. */
export const MAX_LOOPBACK_ADDRESSES = 65_535 * HOSTS_PER_BLOCK

/** The `index`th per-device address (from 0): 127.0.1.1 ... 127.0.1.254, 127.0.2.1 ... 127.255.255.254. */
export const loopbackAddress = (index: number): string => {
  const block = 1 + Math.floor(index / HOSTS_PER_BLOCK)
  return `127.${block >> 8}.${block & 255}.${1 + (index % HOSTS_PER_BLOCK)}`
}

/**
 * Why `count` devices and HA virtual IPs cannot each get an address, in one sentence; null when
 * they can. Per-device addressing needs one loopback address each, and every one of them to be
 * bindable (Linux routes all of 127/8 to lo; other systems have 127.0.0.1 only unless aliases
 * are added): the last one is tried.
 */
export const placementProblem = async (lab: string, count: number, addressing: Addressing): Promise<string | null> => {
  if (addressing === "shared" || count === 0) return null
  if (count > MAX_LOOPBACK_ADDRESSES) {
    return `lab ${lab} has ${count} devices and virtual IPs, more than the ${MAX_LOOPBACK_ADDRESSES} loopback addresses of 127.0.0.0/8 per-device addressing can give; split it into smaller labs, or use --addressing shared`
  }
  const last = loopbackAddress(count - 1)
  if (!(await canBind("udp", last, 0))) {
    return `lab ${lab} needs ${count} loopback addresses (127.0.1.1 to ${last}) and this machine cannot bind ${last}; use --addressing shared, or add the addresses to the loopback interface`
  }
  return null
}

export class PortPlan {
  readonly base: PortBase
  readonly addressing: Addressing
  readonly #addresses = new Map<string, string>()
  readonly #bound = new Map<string, PlannedEndpoint>()

  constructor(options: {
    readonly base: PortBase
    readonly addressing: Addressing
    readonly devices: ReadonlyArray<string>
    /** HA groups with a virtual IP: each gets the next address after the devices'. */
    readonly groups?: ReadonlyArray<string>
    /** Addresses given outside loopback (a netns lab's subnet), by device or group; they win over `addressing`. */
    readonly addresses?: ReadonlyMap<string, string>
  }) {
    this.base = options.base
    this.addressing = options.addressing
    const names = [...options.devices, ...(options.groups ?? [])]
    for (const [index, name] of names.entries()) {
      this.#addresses.set(name, options.addresses?.get(name) ?? (options.addressing === "shared" ? "127.0.0.1" : loopbackAddress(index)))
    }
  }

  /** A device, or an HA group's virtual IP: something a sender can name. */
  hasDevice(device: string): boolean {
    return this.#addresses.has(device)
  }

  /** The address a lab device sends from: its own with per-device addressing, else the OS's choice. */
  sourceAddressOf(device: string): string | undefined {
    return this.addressing === "per-device" ? this.#addresses.get(device) : undefined
  }

  /** The address a device listens on and sends from. */
  addressOf(device: string): string {
    return this.#addresses.get(device) ?? "127.0.0.1"
  }

  /** The port to bind for a documented port (0: let the kernel choose). */
  listenPortFor(port: PortKey): number {
    return this.base === "ephemeral" ? 0 : this.base + numberOf(port)
  }

  /** Records what a listener actually bound, so peers can find it. */
  recordBound(endpoint: PlannedEndpoint): void {
    this.#bound.set(`${endpoint.device} ${endpoint.port}`, endpoint)
  }

  forget(device: string, port: PortKey): void {
    this.#bound.delete(`${device} ${port}`)
  }

  /**
   * Where to reach a device's documented port. A listener that is bound answers with its real
   * port; one that is not (stopped, not started yet) answers with where it would be, so a
   * sender gets a refused connection as it would from a real host that is down. With ephemeral
   * ports an unbound listener has no port yet: the answer is port 0, which nothing accepts on.
   */
  resolve(device: string, port: PortKey): { readonly address: string; readonly actualPort: number } {
    return this.#bound.get(`${device} ${port}`) ?? { address: this.addressOf(device), actualPort: this.listenPortFor(port) }
  }

  boundEndpoints(): ReadonlyArray<PlannedEndpoint> {
    return [...this.#bound.values()]
  }
}

const canBind = (transport: "tcp" | "udp", address: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    if (transport === "tcp") {
      const server = net.createServer()
      server.once("error", () => resolve(false))
      server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(true)))
    } else {
      const socket = dgram.createSocket("udp4")
      socket.once("error", () => {
        socket.close()
        resolve(false)
      })
      socket.bind({ address, port, exclusive: true }, () => socket.close(() => resolve(true)))
    }
  })

/** Bases tried, in order, when no --port-base is given and documented ports cannot be bound. */
export const AUTO_BASES: ReadonlyArray<number> = [0, 20000, 30000, 40000, 50000, 60000 - 5200]

/**
 * Picks the first base at which every wanted (address, port) can be bound right now: 0 (the
 * documented ports) when the process may bind them, otherwise a shifted base. Returns null when
 * none fits; the caller then asks the user for --port-base.
 */
export const chooseBase = async (
  wanted: ReadonlyArray<{ readonly address: string; readonly port: PortKey }>
): Promise<number | null> => {
  for (const base of AUTO_BASES) {
    let fits = true
    for (const { address, port } of wanted) {
      const actual = base + numberOf(port)
      if (actual > 65535 || !(await canBind(transportOf(port), address, actual))) {
        fits = false
        break
      }
    }
    if (fits) return base
  }
  return null
}
