/**
 * The FortiGate's log queue: memory first, then the disk buffer, the oldest dropped and counted
 * when both are full; records leave only when acknowledged.
 */
import { describe, expect, it } from "vitest"
import { LogQueue } from "../../src/devices/fortigate/log-queue.ts"

const fill = (queue: LogQueue, from: number, to: number) => {
  let dropped = 0
  for (let seq = from; seq <= to; seq++) dropped += queue.push({ seq, text: `log ${seq}` })
  return dropped
}

describe("LogQueue", () => {
  it("keeps records until acknowledged and hands out what follows a sequence number", () => {
    const queue = new LogQueue({ memoryRecords: 100, disk: null })
    fill(queue, 1, 10)
    expect(queue.after(0, 3).map((log) => log.seq)).toEqual([1, 2, 3])
    expect(queue.after(7, 100).map((log) => log.seq)).toEqual([8, 9, 10])
    expect(queue.ack(4)).toBe(4)
    expect(queue.size).toBe(6)
    expect(queue.after(0, 1)[0]?.seq).toBe(5)
  })

  it("renumbers every queued record, in memory and on disk, keeping order and text", () => {
    const queue = new LogQueue({ memoryRecords: 2, disk: { file: ":memory:", maxBytes: 1024 * 1024 } })
    fill(queue, 1, 6)
    queue.ack(1)
    expect([queue.firstSeq, queue.lastSeq, queue.onDisk]).toEqual([2, 6, 3])
    queue.renumber(100)
    expect([queue.firstSeq, queue.lastSeq]).toEqual([102, 106])
    const all = queue.after(0, 2)
    expect(all.map((log) => [log.seq, log.text])).toEqual([[102, "log 2"], [103, "log 3"]])
    queue.ack(103)
    expect(queue.after(0, 10).map((log) => [log.seq, log.text])).toEqual([[104, "log 4"], [105, "log 5"]])
    queue.ack(105)
    expect(queue.after(0, 10).map((log) => [log.seq, log.text])).toEqual([[106, "log 6"]])
  })

  it("drops the oldest records when memory is full and there is no disk buffer, and counts them", () => {
    const queue = new LogQueue({ memoryRecords: 5, disk: null })
    expect(fill(queue, 1, 8)).toBe(3)
    expect(queue.dropped).toBe(3)
    expect(queue.after(0, 10).map((log) => log.seq)).toEqual([4, 5, 6, 7, 8])
  })

  it("spills to the disk buffer in order, refills memory as acks free it, then drops the oldest", () => {
    const queue = new LogQueue({ memoryRecords: 3, disk: { file: ":memory:", maxBytes: 5 * "log 10".length } })
    expect(fill(queue, 1, 8)).toBe(0)
    expect(queue.size).toBe(8)
    expect(queue.onDisk).toBe(5)
    queue.ack(2)
    expect(queue.after(0, 10).map((log) => log.seq)).toEqual([3, 4, 5])
    expect(queue.onDisk).toBe(3)
    expect(fill(queue, 9, 12)).toBe(2)
    queue.ack(100)
    expect(queue.size).toBe(0)
  })
})
