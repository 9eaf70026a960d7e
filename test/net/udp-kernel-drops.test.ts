/** /proc/net/udp addressing: a socket bound on 127.0.0.x or ::1 is found under the key procAddress gives it. */
import * as dgram from "node:dgram"
import { describe, expect, it } from "vitest"
import { procAddress, readUdpDrops } from "../../src/net/udp-kernel-drops.ts"

const bound = (type: "udp4" | "udp6", address: string) =>
  new Promise<dgram.Socket>((resolve) => {
    const socket = dgram.createSocket(type)
    socket.bind(0, address, () => resolve(socket))
  })

describe("readUdpDrops and procAddress", () => {
  it.each([
    ["udp4", "127.0.0.1"],
    ["udp4", "127.0.3.7"],
    ["udp6", "::1"]
  ] as const)("finds a %s socket bound on %s, with no drops yet", async (type, address) => {
    const socket = await bound(type, address)
    try {
      expect(readUdpDrops().get(procAddress(address, socket.address().port))).toBe(0)
    } finally {
      socket.close()
    }
  })
})
