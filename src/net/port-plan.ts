/**
 * The port plan: where each device listens for each documented port, and where to reach it.
 *
 * The documented port is a service's identity ("tcp/514"); the bound port may differ. With
 * base 0 every device binds its documented ports; with `--port-base N` documented P binds
 * N+P; "ephemeral" (tests) lets the kernel choose and records what it chose. With per-device
 * addressing (Linux: all of 127.0.0.0/8 is loopback) every device gets its own 127.0.1.x, so
 * several analyzers can each own "their" TCP/514 and the analyzer sees each sender's address.
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
  }) {
    this.base = options.base
    this.addressing = options.addressing
    const names = [...options.devices, ...(options.groups ?? [])]
    for (const [index, name] of names.entries()) {
      this.#addresses.set(name, options.addressing === "shared" ? "127.0.0.1" : `127.0.1.${index + 1}`)
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
