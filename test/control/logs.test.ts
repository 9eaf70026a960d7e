/**
 * Stored logs over the control channel of real labs (kernel-chosen ports, syslog over UDP):
 * `logs` answers the newest logs and then, with its cursor, each new one once; `followLogs`
 * follows them as the lab stores them; clear refusals; in an HA lab the primary answers (also
 * when named by its group); and `step` in a lab without a scenario says so.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type ControlClient, ControlClientError, connectControl, followLogs, mayHaveNewLogs } from "../../src/control/client.ts"
import type { LogLine } from "../../src/control/protocol.ts"
import { isEvent, sharedLab, waitForEvent, waitForStored } from "../support/lab.ts"
import { type Served, serve } from "./support.ts"

const refusal = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => {
      throw new Error("the lab did it")
    },
    (error: unknown) => {
      if (!(error instanceof ControlClientError) || error.kind !== "refused") throw error
      return error.message
    }
  )

describe("logs over the control channel", () => {
  let served: Served
  let client: ControlClient

  const started = sharedLab(`
name: logs-test
devices:
  faz-1: { kind: fortianalyzer }
  fgt-1: { kind: fortigate, syslog: { server: faz-1, mode: udp, rate: 100/s } }
  fgt-2: { kind: fortigate, syslog: { server: faz-1, mode: udp, rate: 100/s } }
`)
  beforeAll(async () => {
    served = await serve(started().lab)
    client = await connectControl(served.server)
    await waitForStored(started(), "fgt-1", 10)
    await waitForStored(started(), "fgt-2", 10)
  })

  afterAll(async () => {
    await client.close()
    await served.close()
  })

  it("answers the newest logs, filtered, with the cursor to continue from", async () => {
    const newest = await client.command({ name: "logs", limit: 5 })
    expect(newest.analyzer).toBe("faz-1")
    expect(newest.logs).toHaveLength(5)
    // At least 20 are stored: the limit of 5 cut the answer, and it says how many more match.
    expect(newest.beyondLimit?.count).toBeGreaterThanOrEqual(15)
    const ids = newest.logs.map((log) => log.id)
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(newest.cursor.id).toBeGreaterThanOrEqual(ids.at(-1) as number)
    const fgt2 = await client.command({ name: "logs", device: "fgt-2", limit: 20 })
    expect(fgt2.logs.length).toBeGreaterThan(0)
    expect(new Set(fgt2.logs.map((log) => log.device))).toEqual(new Set(["fgt-2"]))
    const text = await client.command({ name: "logs", text: 'DEVNAME="FGT-1"' })
    expect(text.logs.length).toBeGreaterThan(0)
    expect(new Set(text.logs.map((log) => log.device))).toEqual(new Set(["fgt-1"]))
    const level = newest.logs[0]?.level as string
    const byLevel = await client.command({ name: "logs", level })
    expect(new Set(byLevel.logs.map((log) => log.level))).toEqual(new Set([level]))
  })

  it("followLogs prints each new log once, in the order stored, as the lab stores them", async () => {
    const received: LogLine[] = []
    const refusals: string[] = []
    let answered = () => undefined as void
    let firstAnswer = () => undefined as void
    const firstAnswered = new Promise<void>((resolve) => {
      firstAnswer = resolve
    })
    const follower = followLogs(client, {
      query: { device: "fgt-1", limit: 1 },
      pageLimit: 1000,
      latest: false,
      onLogs: (logs) => {
        received.push(...logs)
        firstAnswer()
        answered()
      },
      onRefused: (reason) => void refusals.push(reason)
    })
    const stop = client.onEvent((event) => {
      if (mayHaveNewLogs(event)) follower.poke()
    })
    try {
      // The follower starts at the newest log when its first answer comes: count from there, not
      // from before it (logs stored while the first question was on its way are not followed).
      await firstAnswered
      const before = started().events.filter(isEvent("logs-stored", (e) => e.from === "fgt-1")).at(-1)?.total ?? 0
      await waitForStored(started(), "fgt-1", before + 30)
      // What the lab stored is on the channel soon after: wait for it by its events, not by time.
      const target = (await client.command({ name: "logs", device: "fgt-1", limit: 1 })).logs[0]?.id as number
      await new Promise<void>((resolve) => {
        answered = () => {
          if ((received.at(-1)?.id ?? 0) >= target) resolve()
        }
        answered()
      })
      const ids = received.map((log) => log.id)
      expect(ids.length).toBeGreaterThanOrEqual(30)
      expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b))
      expect(new Set(received.map((log) => log.device))).toEqual(new Set(["fgt-1"]))
      expect(refusals).toEqual([])
    } finally {
      stop()
      follower.stop()
    }
  })

  it("refuses with a sentence: an unknown analyzer, a bad limit, and step without a scenario", async () => {
    expect(await refusal(client.command({ name: "logs", analyzer: "ghost" }))).toBe('no analyzer "ghost" in lab logs-test; its analyzers: faz-1')
    expect(await refusal(client.command({ name: "logs", limit: 0 }))).toBe("command logs: limit must be a whole number from 1 to 1000, got 0")
    expect(await refusal(client.command({ name: "step" }))).toBe(
      "step: no scenario is running in lab logs-test, so no step waits; steps belong to fazlab run SCENARIO.yaml"
    )
  })
})

describe("logs of an HA lab", () => {
  let served: Served
  let client: ControlClient

  const started = sharedLab(`
name: logs-ha
devices:
  faz-a: { kind: fortianalyzer, serial: FAZ-VM0000000001, ha: { priority: 120 } }
  faz-b: { kind: fortianalyzer, serial: FAZ-VM0000000002 }
  fgt-1: { kind: fortigate, syslog: { server: lab, mode: udp, rate: 100/s } }
ha:
  lab: { members: [faz-a, faz-b], group-id: 3, hb-interval: 200ms, hb-lost-threshold: 3 }
`)
  beforeAll(async () => {
    served = await serve(started().lab)
    client = await connectControl(served.server)
    await waitForEvent(started(), "ha-role", (e) => e.role === "primary")
    await waitForStored(started(), "fgt-1", 5)
  })

  afterAll(async () => {
    await client.close()
    await served.close()
  })

  it("reads the primary's store, unnamed or by its group's name, or the member named", async () => {
    const primary = started().lab.haRoles().find((member) => member.role === "primary")?.device
    expect(primary).toBeDefined()
    const unnamed = await client.command({ name: "logs", limit: 5 })
    expect(unnamed.analyzer).toBe(primary)
    expect(unnamed.logs.length).toBeGreaterThan(0)
    expect((await client.command({ name: "logs", analyzer: "lab", limit: 1 })).analyzer).toBe(primary)
    expect((await client.command({ name: "logs", analyzer: "faz-b", limit: 1 })).analyzer).toBe("faz-b")
  })
})
