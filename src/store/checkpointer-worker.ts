/**
 * Worker-thread entry of `WalCheckpointer` (see `checkpointer.ts` for the why): copies the
 * store's write-ahead log into the database file in passes, in parallel with the writer, and
 * asks the writer for a WAL restart when the log has grown large.
 *
 * The loop is synchronous on purpose: the thread has nothing else to do, and it sleeps with
 * `Atomics.wait` so that `stop()` wakes it at once.
 */
import { DatabaseSync } from "node:sqlite"
import { workerData } from "node:worker_threads"
import { Slot, type CheckpointerData } from "./checkpointer.ts"

const data = workerData as CheckpointerData
const control = new Int32Array(data.control)

const stopping = (): boolean => Atomics.load(control, Slot.Stop) === 1

try {
  const db = new DatabaseSync(data.path, { timeout: 0 })
  try {
    db.exec("PRAGMA synchronous = NORMAL")
    const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)")
    let lastCopied = 0
    while (!stopping()) {
      // One row: busy (1 when another checkpoint ran), log (frames in the WAL), checkpointed.
      const row = checkpoint.get()
      const log = Number(row?.["log"] ?? 0)
      const copied = Number(row?.["checkpointed"] ?? 0)
      // Frames this pass copied (the count starts again from 0 when the WAL restarted).
      const fresh = copied >= lastCopied ? copied - lastCopied : copied
      lastCopied = copied
      const short = fresh <= data.tailFrames
      if (copied !== log) {
        // Held back by a reader's snapshot or another checkpoint: try again later.
        Atomics.wait(control, Slot.Stop, 0, data.idleMs)
      } else if (log >= data.resetFrames && (short || log >= 4 * data.resetFrames)) {
        // Only a short tail is left to copy: the writer copies it and restarts the WAL.
        Atomics.store(control, Slot.ResetWanted, 1)
        Atomics.wait(control, Slot.ResetWanted, 1, data.resetWaitMs)
        Atomics.store(control, Slot.ResetWanted, 0)
      } else if (short) {
        Atomics.wait(control, Slot.Stop, 0, data.idleMs)
      }
      // Otherwise the writer is busy: start the next pass at once, so that passes shrink.
    }
  } finally {
    db.close()
  }
} finally {
  Atomics.store(control, Slot.Done, 1)
  Atomics.notify(control, Slot.Done)
}
