/**
 * A control client double for UI tests: a fixed snapshot, events pushed by the test, and
 * commands recorded and answered by a function the test gives (a refusal when it throws).
 * `logs` queries are answered from `logs` (empty unless the test gives some), as the lab's
 * store would: the newest matching ones, then those after the cursor.
 */
import type { ControlClosed } from "../../src/control/client.ts"
import { readLogs } from "../../src/control/log-query.ts"
import type { ControlCommand, SnapshotMessage } from "../../src/control/protocol.ts"
import type { LabEvent } from "../../src/events/events.ts"
import type { StoredLog } from "../../src/store/log-record.ts"
import type { UiClient } from "../../src/ui/actions.ts"

export const SNAPSHOT: SnapshotMessage = {
  v: 1,
  type: "snapshot",
  lab: "test-lab",
  devices: [
    { id: "faz-1", kind: "fortianalyzer", status: "running" },
    { id: "fgt-1", kind: "fortigate", status: "running" },
    { id: "fgt-2", kind: "fortigate", status: "running" }
  ],
  listeners: [
    { device: "faz-1", port: "tcp/514", address: "127.0.1.1", actualPort: 40514 },
    { device: "faz-1", port: "udp/514", address: "127.0.1.1", actualPort: 40515 }
  ]
}

export interface FakeClient extends UiClient {
  readonly sent: ControlCommand[]
  /** The stored logs `logs` queries read, oldest first; push to store more. */
  readonly logs: StoredLog[]
  emit(...events: ReadonlyArray<LabEvent>): void
  end(closed: ControlClosed): void
}

export const fakeClient = (answer: (command: ControlCommand) => unknown = (c) => ({ device: "device" in c ? c.device : "", status: "stopped" }), snapshot: SnapshotMessage = SNAPSHOT): FakeClient => {
  const listeners = new Set<(event: LabEvent) => void>()
  const sent: ControlCommand[] = []
  const logs: StoredLog[] = []
  const matching = (q: { afterId?: number; device?: string; type?: string; level?: string }) =>
    logs.filter((log) =>
      (q.afterId === undefined || log.id > q.afterId) && (q.device === undefined || log.device === q.device) &&
      (q.type === undefined || log.type === q.type) && (q.level === undefined || log.level === q.level)
    )
  const store = {
    query: (q: { afterId?: number; limit?: number; order?: "asc" | "desc"; device?: string; type?: string; level?: string }) => {
      const rows = matching(q)
      return (q.order === "desc" ? rows.reverse() : rows).slice(0, q.limit ?? 100)
    },
    count: (q: { device?: string; type?: string; level?: string }) => matching(q).length
  }
  let end: (closed: ControlClosed) => void = () => undefined
  const closed = new Promise<ControlClosed>((resolve) => (end = resolve))
  return {
    snapshot,
    sent,
    logs,
    closed,
    command: (command) => {
      sent.push(command)
      if (command.name === "logs") {
        const { name: _, ...filter } = command
        return Promise.resolve(readLogs("faz-1", store, filter) as never)
      }
      try {
        return Promise.resolve(answer(command) as never)
      } catch (error) {
        return Promise.reject(error)
      }
    },
    onEvent: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    emit: (...events) => {
      for (const event of events) for (const listener of listeners) listener(event)
    },
    end: (value) => end(value)
  }
}
