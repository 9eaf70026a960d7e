/**
 * The store-failure tests' lab and fault: the lab starts before a file's tests and is ready once
 * `fgt-1` has stored its first log (the analyzer's store is in use), and closes after them; then
 * one store call is made to fail with the store's own error, as on a full disk.
 */
import { beforeAll, vi } from "vitest"
import type { FortiAnalyzer } from "../../src/devices/fortianalyzer/analyzer.ts"
import { StoreError } from "../../src/store/store-error.ts"
import { sharedLab, type StartedLab, waitForStored } from "./lab.ts"

export interface StoringLab {
  readonly started: StartedLab
  /** The lab's first analyzer, the one `fgt-1` sends to. */
  readonly analyzer: FortiAnalyzer
}

/** Registers the lab's hooks; call it at the top of a test file, and the function it returns in the tests. */
export const storingLab = (yaml: string): (() => StoringLab) => {
  const started = sharedLab(yaml)
  beforeAll(() => waitForStored(started(), "fgt-1", 1))
  return () => ({ started: started(), analyzer: started().lab.analyzers()[0]! })
}

/** The store's next `method` call throws `store-write-failed` with `reason`; later calls go through. */
export const failNextStoreCall = (analyzer: FortiAnalyzer, method: "append" | "appendDeviceBatches", reason: string) =>
  vi.spyOn(analyzer.store, method).mockImplementationOnce(() => {
    throw new StoreError("store-write-failed", reason)
  })
