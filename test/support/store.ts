/**
 * The two ways the store tests open a LogStore, so each test runs on both: in memory, and in a
 * file under a fresh temporary folder (`tempDir()`, made before and removed after each test).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach } from "vitest"
import { LogStore } from "../../src/store/log-store.ts"

/** Registers the temporary folder's hooks; call it at the top of a test file. */
export const storeModes = (prefix: string) => {
  let dir = ""
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix))
  })
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true })
  })
  const tempDir = (): string => dir
  const modes = [
    ["memory", () => LogStore.open({ memory: true })],
    ["file", () => LogStore.open({ path: join(dir, "lab", "logs.sqlite") })]
  ] as const
  return { tempDir, modes }
}
