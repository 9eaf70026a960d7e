/**
 * Worker-thread entry of an analyzer's store thread (see `store-thread.ts` for the why): parses
 * the syslog frames the main thread hands over (`syslog-record.ts`, the same code as on the main
 * thread) and appends them to the analyzer's store file through its own connection
 * (`LogStore.open`), one transaction per batch, then answers with what it stored: the id of the
 * first log, the count per sending device, the frames it rejected and why, the logs it stored cut
 * or damaged, and (for an HA member,
 * which forwards them) the records. After each answer it bumps the shared `Done` count, so that
 * the main thread can wait for a batch without its event loop (`Atomics.wait`).
 */
import { type MessagePort, workerData } from "node:worker_threads"
import { LogStore } from "../../store/log-store.ts"
import { type PartialLog, StoreSlot, type StoreThreadData, type StoreThreadReport, type StoreThreadRequest, type Rejected } from "./store-thread.ts"
import { datagramRecord, isRejection, syslogRecord } from "./syslog-record.ts"
import type { LogRecordInput } from "../../store/log-record.ts"

const data = workerData as StoreThreadData
const port: MessagePort = data.port
const control = new Int32Array(data.control)

/** Says why, raises the `Ended` flag (the main thread may be waiting without its event loop), and ends the thread. */
const giveUp = (error: unknown): never => {
  port.postMessage({ kind: "ended", reason: error instanceof Error ? error.message : String(error) } satisfies StoreThreadReport)
  Atomics.store(control, StoreSlot.Ended, 1)
  Atomics.notify(control, StoreSlot.Done)
  process.exit(1)
}

// A store that cannot be opened here ends the thread: the analyzer stores on its main thread then.
let store: LogStore | null = null
try {
  store = LogStore.open({ path: data.path })
} catch (error) {
  giveUp(error)
}

const answer = (report: StoreThreadReport): void => {
  port.postMessage(report)
  Atomics.add(control, StoreSlot.Done, 1)
  Atomics.notify(control, StoreSlot.Done)
}

const take = (request: Extract<StoreThreadRequest, { kind: "frames" }>): void => {
  const { ends, transports, peers, peerStarts } = request
  const records: LogRecordInput[] = []
  const rejected: Rejected[] = []
  const partial: PartialLog[] = []
  let run = 0
  let start = 0
  for (let i = 0; i < ends.length; i++) {
    while (run + 1 < peerStarts.length && (peerStarts[run + 1] ?? 0) <= i) run++
    const end = ends[i] ?? start
    const frame = Buffer.from(request.bytes, start, end - start)
    start = end
    const peer = peers[run] ?? ""
    const udp = transports[i] === 1
    const result = udp ? datagramRecord(frame, peer, data.maxFrameBytes) : syslogRecord(frame, "tcp", peer)
    if (isRejection(result)) rejected.push({ port: udp ? "udp/514" : "tcp/514", peer, reason: result.reason, detail: result.detail })
    else {
      records.push(result)
      if (result.damage !== undefined) partial.push({ port: udp ? "udp/514" : "tcp/514", peer, damage: result.damage })
    }
  }
  if (store === null) {
    answer({ kind: "failed", accepted: records.length, reason: "the store thread's store is closed", rejected })
    return
  }
  let firstId: number
  try {
    firstId = store.append(records)
  } catch (error) {
    answer({ kind: "failed", accepted: records.length, reason: error instanceof Error ? error.message : String(error), rejected })
    return
  }
  const perDevice = new Map<string, number>()
  for (const record of records) perDevice.set(record.device, (perDevice.get(record.device) ?? 0) + 1)
  answer({ kind: "stored", firstId, accepted: records.length, perDevice: [...perDevice], rejected, partial, records: data.returnRecords ? records : null })
}

port.on("message", (request: StoreThreadRequest) => {
  if (request.kind === "frames") {
    try {
      take(request)
    } catch (error) {
      giveUp(error)
    }
    return
  }
  store?.close()
  store = null
  port.close()
  Atomics.store(control, StoreSlot.Closed, 1)
  Atomics.notify(control, StoreSlot.Closed)
})
