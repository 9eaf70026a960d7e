/**
 * A catch-up whose store read fails (busy, closed), on real sockets: the primary ends that
 * secondary's link instead of leaving a rejected promise nobody handles, and the secondary joins
 * again and catches up.
 */
import * as Effect from "effect/Effect"
import { afterEach, expect, it, vi } from "vitest"
import type { LabEvent } from "../../src/events/events.ts"
import { StoreError } from "../../src/store/store-error.ts"
import { type StartedLab, startLab, waitForEvent } from "../support/lab.ts"

const YAML = `name: ha-catch-up-failure-test
devices:
  faz-a: { kind: fortianalyzer, serial: FAZ-VM0000000001, ha: { preferred-role: primary } }
  faz-b: { kind: fortianalyzer, serial: FAZ-VM0000000002 }
ha:
  lab: { members: [faz-a, faz-b], group-id: 13, hb-interval: 200ms, hb-lost-threshold: 3 }
`

type RoleEvent = Extract<LabEvent, { type: "ha-role" }>
type SyncedEvent = Extract<LabEvent, { type: "ha-synced" }>

let started: StartedLab | null = null
afterEach(async () => {
  await started?.close()
  started = null
})

it("ends the link of a catch-up that cannot read the store; the secondary joins again and catches up", async () => {
  started = await startLab(YAML)
  const { lab, events } = started
  const synced = (from: number) =>
    waitForEvent(lab.bus, events.slice(from), (e): e is SyncedEvent => e.type === "ha-synced" && e.device === "faz-b", 10_000)
  await waitForEvent(lab.bus, events, (e): e is RoleEvent => e.type === "ha-role" && e.device === "faz-a" && e.role === "primary", 5000)
  await synced(0)

  const store = lab.analyzer("faz-a")!.store
  const failing = vi.spyOn(store, "lastId").mockImplementationOnce(() => {
    throw new StoreError("store-read-failed", "Could not read logs.sqlite (database is locked).")
  })
  const mark = events.length
  await Effect.runPromise(lab.perform({ restart: "faz-b" }))
  const done = await synced(mark)
  expect(failing).toHaveBeenCalledTimes(2)
  expect(done).toMatchObject({ device: "faz-b", primary: "faz-a" })
  failing.mockRestore()
}, 20_000)
