/**
 * An OFTP store transaction that fails as a whole (a commit on a full disk), over real loopback
 * sockets: the batches in it are not acknowledged, their sessions end, the process keeps running
 * and the FortiGate sends them again on its next session, so none is lost or stored twice.
 */
import { expect, it } from "vitest"
import { failNextStoreCall, storingLab } from "../support/failing-store.ts"
import { waitForEvent, waitForStored } from "../support/lab.ts"

const GATE_SERIAL = "FGT60FTK20000011"

const LAB = `name: store-failure
devices:
  faz-1:
    kind: fortianalyzer
    serial: FAZ-VM0000000011
    oftp: { auto-authorize: true }
  fgt-1:
    kind: fortigate
    serial: ${GATE_SERIAL}
    fortianalyzer: { server: faz-1, serial: FAZ-VM0000000011, rate: 200/s }
`

const lab = storingLab(LAB)

it("ends the sessions of a failed store transaction without acknowledging, and the device sends the batch again", async () => {
  const { started, analyzer } = lab()
  const reason = "Could not store OFTP batches in logs.sqlite (database or disk is full); nothing of them was stored."
  const failed = failNextStoreCall(analyzer, "appendDeviceBatches", reason)
  const closed = await waitForEvent(started, "oftp-session", (e) => e.serial === GATE_SERIAL && e.state === "closed" && e.reason === reason)
  expect(closed.reason).toBe(reason)
  expect(failed).toHaveBeenCalled()
  failed.mockRestore()

  // The next session resumes from the analyzer's lastSeq: what was not acknowledged comes again.
  const stored = started.lab.analyzers()[0]!.store.devices.get(GATE_SERIAL)!.lastSeq
  await waitForStored(started, "fgt-1", stored + 200)
  const lastSeq = analyzer.store.devices.get(GATE_SERIAL)!.lastSeq
  const report = analyzer.store.sequenceReport(`${analyzer.store.devices.get(GATE_SERIAL)!.name}`, lastSeq)
  expect(report.missing).toBe(0)
  expect(report.duplicated).toBe(0)
})
