/**
 * Port bases for the few tests that need known ports (an analyzer restarted on the same ports,
 * a port held on purpose): chosen below Linux's ephemeral range (32768-60999), where no
 * kernel-chosen port of a test running at the same time can land, and checked free on the
 * given address before they are handed out. Every other test uses `--port-base ephemeral`.
 */
import * as dgram from "node:dgram"
import * as net from "node:net"
import type { PortKey } from "../../src/events/events.ts"

const EPHEMERAL_LOW = 32768
/** Bases start here, so that base + 443 is above the privileged ports. */
const LOWEST_BASE = 1100
const ATTEMPTS = 100

const bindsFree = (key: PortKey, port: number, host: string): Promise<boolean> =>
  new Promise((resolve) => {
    if (key.startsWith("udp/")) {
      const socket = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4")
      socket.once("error", () => resolve(false))
      socket.bind(port, host, () => socket.close(() => resolve(true)))
    } else {
      const server = net.createServer()
      server.once("error", () => resolve(false))
      server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)))
    }
  })

/** A `--port-base` under which every one of `ports` (documented) is free on `host` and outside the ephemeral range. */
export const freePortBase = async (ports: ReadonlyArray<PortKey>, host = "127.0.0.1"): Promise<number> => {
  const highest = Math.max(...ports.map((key) => Number(key.slice(4))))
  const span = EPHEMERAL_LOW - 1 - highest - LOWEST_BASE
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const base = LOWEST_BASE + Math.floor(Math.random() * span)
    const free = await Promise.all(ports.map((key) => bindsFree(key, base + Number(key.slice(4)), host)))
    if (free.every(Boolean)) return base
  }
  throw new Error(`no port base below ${EPHEMERAL_LOW} left every one of ${ports.join(", ")} free on ${host} in ${ATTEMPTS} tries`)
}
