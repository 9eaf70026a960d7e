/**
 * How many datagrams the kernel dropped for a bound UDP socket, from Linux's /proc/net/udp and
 * /proc/net/udp6 (the `drops` column: datagrams that arrived while the socket's receive buffer
 * was full). A receiver that reads these reports its own silent losses: UDP syslog is never
 * acknowledged, so this is the only place they show.
 *
 * Sockets are found by their local address and port (fazlab binds UDP/514 exclusively, so the
 * pair names one socket). Where /proc is not there (not Linux) every lookup answers null.
 */
import { readFileSync } from "node:fs"
import { isIPv6 } from "node:net"

/** Drops per socket of this network namespace, by `procAddress(address, port)`. */
export type UdpDropTable = ReadonlyMap<string, number>

/** Reads the drop counters of every UDP socket (IPv4 and IPv6) once; empty where /proc is missing. */
export const readUdpDrops = (): UdpDropTable => {
  const table = new Map<string, number>()
  for (const file of ["/proc/net/udp", "/proc/net/udp6"]) {
    let text: string
    try {
      text = readFileSync(file, "utf8")
    } catch {
      continue
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/)
      const local = fields[1]
      const drops = fields[12]
      if (local !== undefined && drops !== undefined) table.set(local, Number(drops))
    }
  }
  return table
}

/** The local address as /proc/net/udp writes it: the address in host-order hex words (little-endian here), ":" and the port in hex. */
export const procAddress = (address: string, port: number): string => {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0")
  if (!isIPv6(address)) {
    const bytes = address.split(".").map(Number)
    return `${bytes.reverse().map((byte) => byte.toString(16).toUpperCase().padStart(2, "0")).join("")}:${hexPort}`
  }
  const words = expandIPv6(address)
  // Four 32-bit words, each written as the little-endian host sees it.
  const hex: string[] = []
  for (let word = 0; word < 4; word++) {
    const bytes = [0, 1, 2, 3].map((i) => {
      const index = word * 4 + i
      const group = words[Math.floor(index / 2)] ?? 0
      return index % 2 === 0 ? group >> 8 : group & 0xff
    })
    hex.push(bytes.reverse().map((byte) => byte.toString(16).toUpperCase().padStart(2, "0")).join(""))
  }
  return `${hex.join("")}:${hexPort}`
}

/** The eight 16-bit groups of an IPv6 address (with `::` expanded; an embedded IPv4 tail is not needed here). */
const expandIPv6 = (address: string): number[] => {
  const [head = "", tail = ""] = address.split("::")
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16)))
  const first = parse(head)
  const last = address.includes("::") ? parse(tail) : []
  return [...first, ...Array<number>(8 - first.length - last.length).fill(0), ...last]
}
