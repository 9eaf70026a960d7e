/**
 * A syslog batch the store cannot take (a full disk, a lock held too long): syslog is never
 * acknowledged, so the analyzer drops the batch, says so once (`store-failed`, with the store's
 * sentence) and goes on storing the next ones; the process keeps running. Real UDP on loopback.
 */
import { expect, it } from "vitest"
import { failNextStoreCall, storingLab } from "../support/failing-store.ts"
import { isEvent, waitForEvent, waitForStored } from "../support/lab.ts"

const LAB = `name: store-failed
devices:
  faz-1: { kind: fortianalyzer }
  fgt-1: { kind: fortigate, syslog: { server: faz-1, mode: udp, rate: 200/s } }
`

const lab = storingLab(LAB)

it("drops a batch the store refused, says so, and stores the next ones", async () => {
  const { started, analyzer } = lab()
  const reason = "Could not store logs in logs.sqlite (database or disk is full)."
  const append = failNextStoreCall(analyzer, "append", reason)
  const failed = await waitForEvent(started, "store-failed")
  expect(failed).toMatchObject({ device: "faz-1", reason })
  expect(failed.dropped).toBeGreaterThan(0)
  append.mockRestore()
  const total = started.events.filter(isEvent("logs-stored")).at(-1)?.total ?? 0
  await waitForStored(started, "fgt-1", total + 50)
})
