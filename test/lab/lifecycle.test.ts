/**
 * A lab leaves nothing behind: starting and stopping one 100 times in the same process (an
 * analyzer, a reliable TCP sender and a UDP sender, each delivering its logs before the stop)
 * ends with the same sockets, servers and timers as before, the same open file descriptors
 * with a file store, and the last lab's ports free to bind as soon as it is closed.
 *
 * Node lists a closed socket as active until the event loop's next close phase (a `close`
 * callback runs before that), so handles are compared once the loop has turned: `settled`
 * polls on setImmediate, bounded, instead of sleeping.
 */
import * as dgram from "node:dgram"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { PlannedEndpoint } from "../../src/net/port-plan.ts"
import { transportOf } from "../../src/net/port-plan.ts"
import { startLab, waitForStored } from "../support/lab.ts"

const CYCLES = 100
const COUNT = 5

const yaml = `
name: lifecycle
description: An analyzer and two senders, started and stopped again and again.
devices:
  faz-1:
    kind: fortianalyzer
  fgt-tcp:
    kind: fortigate
    syslog: { server: faz-1, mode: reliable, rate: 5000/s, count: ${COUNT} }
  fgt-udp:
    kind: fortigate
    syslog: { server: faz-1, mode: udp, rate: 5000/s, count: ${COUNT} }
`

/** Handles Node keeps the event loop alive for, by kind (TCPServerWrap, TCPSocketWrap, UDPWrap, Timeout, ...). */
const activeResources = (): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1
  return counts
}

/** Turns the event loop until `done()` holds or `withinMs` has passed; returns how long it took. */
const settled = async (done: () => boolean, withinMs = 2_000): Promise<number> => {
  const start = performance.now()
  while (!done() && performance.now() - start < withinMs) await new Promise((resolve) => setImmediate(resolve))
  return performance.now() - start
}

const NET_HANDLES = ["TCPServerWrap", "TCPSocketWrap", "UDPWrap", "SimpleShutdownWrap", "ShutdownWrap", "WriteWrap"]
const hasNetHandles = (): boolean => process.getActiveResourcesInfo().some((kind) => NET_HANDLES.includes(kind))

/**
 * This process's open sockets and files under `dir`, where the OS shows them (Linux; null
 * elsewhere). Other descriptors come and go with the test runner (a worker's event loop).
 */
const openFds = (dir: string): ReadonlyArray<string> | null => {
  if (!fs.existsSync("/proc/self/fd")) return null
  return fs.readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`)
      return target.startsWith("socket:") || target.startsWith(dir) ? [target] : []
    } catch {
      return [] // closed between readdir and readlink (readdir's own descriptor)
    }
  }).sort()
}

const canBind = (endpoint: PlannedEndpoint): Promise<boolean> =>
  new Promise((resolve) => {
    if (transportOf(endpoint.port) === "tcp") {
      const server = net.createServer()
      server.once("error", () => resolve(false))
      server.listen({ host: endpoint.address, port: endpoint.actualPort, exclusive: true }, () => server.close(() => resolve(true)))
    } else {
      const socket = dgram.createSocket("udp4")
      socket.once("error", () => socket.close(() => resolve(false)))
      socket.bind({ address: endpoint.address, port: endpoint.actualPort, exclusive: true }, () => socket.close(() => resolve(true)))
    }
  })

/** One lab from start to stop; returns where its analyzer listened. */
const cycle = async (dataDir: string | null): Promise<ReadonlyArray<PlannedEndpoint>> => {
  const started = await startLab(yaml, { dataDir })
  try {
    await waitForStored(started, "fgt-tcp", COUNT)
    await waitForStored(started, "fgt-udp", COUNT)
    return started.lab.plan.boundEndpoints()
  } finally {
    await started.close()
  }
}

describe("lab lifecycle", () => {
  const dirs: string[] = []
  afterAll(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })))

  it(`${CYCLES} starts and stops leak no handle, timer or file descriptor, and free the ports`, async () => {
    const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-lifecycle-"))
    dirs.push(dataRoot)
    // One lab first, so what is created once per process (module state, lazy pools) is in the baseline.
    await cycle(path.join(dataRoot, "warm-up"))
    // The UDP receiver thread outlives labs, but holds the process open (its MessagePort) only
    // while it has sockets: it lets go once the warm-up's last socket is closed.
    await settled(() => !hasNetHandles() && !process.getActiveResourcesInfo().includes("MessagePort"))
    const resourcesBefore = activeResources()
    const fdsBefore = openFds(dataRoot)

    let last: ReadonlyArray<PlannedEndpoint> = []
    for (let i = 0; i < CYCLES; i++) {
      // Every other lab keeps its logs on disk, so SQLite files are opened and closed too.
      last = await cycle(i % 2 === 0 ? null : path.join(dataRoot, `lab-${i}`))
    }

    // The ports first: free the moment close() has resolved, without waiting for the loop.
    expect(last.map((endpoint) => endpoint.port).sort()).toEqual(["tcp/21", "tcp/22", "tcp/3000", "tcp/3010", "tcp/3011", "tcp/443", "tcp/445", "tcp/514", "tcp/541", "tcp/80", "tcp/8080", "tcp/8443", "udp/514", "udp/554"])
    const free = await Promise.all(last.map(canBind))
    expect(free, last.map((endpoint) => `${endpoint.port} at ${endpoint.address}:${endpoint.actualPort}`).join(", ")).toEqual(last.map(() => true))

    await settled(() => JSON.stringify(activeResources()) === JSON.stringify(resourcesBefore))
    expect(activeResources()).toEqual(resourcesBefore)
    expect(openFds(dataRoot)).toEqual(fdsBefore)
    // 10-15 s on 2 idle cores; the bound is for a machine that runs other suites alongside.
  }, 90_000)
})
