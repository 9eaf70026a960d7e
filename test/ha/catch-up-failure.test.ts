/**
 * A catch-up whose store read fails (busy, closed), on real sockets: the primary ends that
 * secondary's link instead of leaving a rejected promise nobody handles, and the secondary joins
 * again and catches up.
 */
import * as Effect from "effect/Effect"
import { expect, it, vi } from "vitest"
import { StoreError } from "../../src/store/store-error.ts"
import { useLab, waitForEvent, waitForRole } from "../support/lab.ts"

const YAML = `name: ha-catch-up-failure-test
devices:
  faz-a: { kind: fortianalyzer, serial: FAZ-VM0000000001, ha: { preferred-role: primary } }
  faz-b: { kind: fortianalyzer, serial: FAZ-VM0000000002 }
ha:
  lab: { members: [faz-a, faz-b], group-id: 13, hb-interval: 200ms, hb-lost-threshold: 3 }
`

it("ends the link of a catch-up that cannot read the store; the secondary joins again and catches up", async () => {
  const started = await useLab(YAML)
  const { lab, events } = started
  const synced = (from: number) =>
    waitForEvent(started, "ha-synced", (e) => e.device === "faz-b", { from })
  await waitForRole(started, "faz-a", "primary", { timeoutMs: 5000 })
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
