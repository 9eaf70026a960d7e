/**
 * A control client double for UI tests: a fixed snapshot, events pushed by the test, and
 * commands recorded and answered by a function the test gives (a refusal when it throws).
 */
import type { ControlClosed } from "../../src/control/client.ts"
import type { ControlCommand, SnapshotMessage } from "../../src/control/protocol.ts"
import type { LabEvent } from "../../src/events/events.ts"
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
  emit(...events: ReadonlyArray<LabEvent>): void
  end(closed: ControlClosed): void
}

export const fakeClient = (answer: (command: ControlCommand) => unknown = (c) => ({ device: "device" in c ? c.device : "", status: "stopped" }), snapshot: SnapshotMessage = SNAPSHOT): FakeClient => {
  const listeners = new Set<(event: LabEvent) => void>()
  const sent: ControlCommand[] = []
  let end: (closed: ControlClosed) => void = () => undefined
  const closed = new Promise<ControlClosed>((resolve) => (end = resolve))
  return {
    snapshot,
    sent,
    closed,
    command: (command) => {
      sent.push(command)
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
