/**
 * A device node's link to its lab (src/placement/uplink.ts) against the real control channel on
 * its Unix socket: events go up in batches the lab confirms; while the lab is gone they wait in
 * the bounded buffer (the oldest let go and counted); the node dials again, finds the lab started
 * anew (a new token, read from its folder) and sends what the new lab has not had, once.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Exit, Scope } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { findControl } from "../../src/control/client.ts"
import { serveControl, unixSocketUrl } from "../../src/control/server.ts"
import type { ControlTarget, NodeHub, NodeLink } from "../../src/control/target.ts"
import { EventBus } from "../../src/events/bus.ts"
import type { LabEvent } from "../../src/events/events.ts"
import { MAX_BUFFERED, Uplink } from "../../src/placement/uplink.ts"

interface Received {
  readonly device: string
  readonly events: Array<Record<string, unknown>>
  readonly dropped: number[]
  hellos: number
}

/** A lab with one node slot: it records what the node sends, as NodeSet does (each event once). */
const labWithHub = (received: Received): ControlTarget => {
  let count = 0
  const hub: NodeHub = {
    hello: (device) => {
      received.hellos++
      return Effect.succeed({ lab: "uplink-test", received: device === received.device ? count : 0 })
    },
    events: (command) =>
      Effect.sync(() => {
        command.events.forEach((event, i) => {
          if (command.first + i > count) received.events.push(event)
        })
        if (command.dropped !== undefined) received.dropped.push(command.dropped)
        count = Math.max(count, command.first + command.events.length - 1)
        return { received: count }
      }),
    address: (_device, address) => Effect.succeed({ address, holder: null, granted: true }),
    gone: (_link: NodeLink) => undefined
  }
  return {
    name: "uplink-test",
    bus: new EventBus(() => 0),
    devices: new Map(),
    plan: { boundEndpoints: () => [] },
    perform: () => Effect.void,
    analyzers: () => [],
    haRoles: () => [],
    stepNow: () => Effect.fail({ message: "no steps" }),
    nodes: hub
  }
}

const scopes: Scope.Closeable[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const scope of scopes.splice(0)) await Effect.runPromise(Scope.close(scope, Exit.void))
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

const startLab = async (dataDir: string, target: ControlTarget): Promise<Scope.Closeable> => {
  const scope = await Effect.runPromise(Scope.make())
  await Effect.runPromise(Scope.provide(scope)(serveControl(target, { dataDir })))
  scopes.push(scope)
  return scope
}

const until = async (condition: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 10_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(what)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const event = (n: number): LabEvent => ({ type: "device-started", device: `d-${n}`, kind: "fortigate", at: n })

describe("Uplink", () => {
  it("sends events once, keeps at most MAX_BUFFERED while the lab is gone, and resends to a lab started anew", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-uplink-"))
    dirs.push(dataDir)
    const first: Received = { device: "fgt-1", events: [], dropped: [], hellos: 0 }
    const firstLab = await startLab(dataDir, labWithHub(first))
    const links: string[] = []
    const uplink = new Uplink({
      address: () => {
        const found = findControl(dataDir, dataDir)
        return { url: unixSocketUrl(found.unixSocket ?? ""), token: found.token }
      },
      device: "fgt-1",
      status: () => ({ status: "running" }),
      serve: () => Promise.resolve(null),
      onSnapshot: () => undefined,
      onEvent: () => undefined,
      onLink: (state) => links.push(state)
    })
    await uplink.start()
    for (let n = 1; n <= 3; n++) uplink.push(event(n))
    await until(() => first.events.length === 3, "the first lab did not get 3 events")
    expect(first.events.map((e) => e["device"])).toEqual(["d-1", "d-2", "d-3"])

    // The lab goes away; the node keeps running and keeps what it cannot send, up to its bound.
    await Effect.runPromise(Scope.close(firstLab, Exit.void))
    scopes.splice(scopes.indexOf(firstLab), 1)
    await until(() => links.includes("lost"), "the node did not notice the lab was gone")
    for (let n = 4; n < 4 + MAX_BUFFERED + 5; n++) uplink.push(event(n))

    const second: Received = { device: "fgt-1", events: [], dropped: [], hellos: 0 }
    await startLab(dataDir, labWithHub(second))
    await until(() => second.events.length === MAX_BUFFERED, `the new lab got ${second.events.length} events, not ${MAX_BUFFERED}`)
    // The 5 oldest of the outage were let go, and said so; the rest arrived in order, once.
    expect(second.dropped.reduce((a, b) => a + b, 0)).toBe(5)
    expect(second.events[0]?.["device"]).toBe("d-9")
    expect(second.events.at(-1)?.["device"]).toBe(`d-${3 + MAX_BUFFERED + 5}`)
    expect(new Set(second.events.map((e) => e["device"])).size).toBe(MAX_BUFFERED)
    await uplink.close(1000)
  }, 30_000)
})
