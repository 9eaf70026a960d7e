/**
 * What the control channel needs of a lab, and nothing more: its name, its event bus, its
 * devices and listeners (for the snapshot), its actions, its analyzers' device registries and
 * log stores, and the scenario runner's "run the next step now".
 *
 * `Lab` (src/lab/lab.ts) satisfies `ControlTarget` as it is, so `serveControl(lab, ...)` needs
 * no adapter; tests can serve a small fake instead.
 */
import type * as Effect from "effect/Effect"
import type { LabEvent } from "../events/events.ts"
import type { Action } from "../lab/scenario/schema.ts"
import type { LogCountQuery, LogQuery } from "../store/log-queries.ts"
import type { StoredLog } from "../store/log-record.ts"
import { type ListenerSummary, PROTOCOL_VERSION, type RegisteredDevice, type SnapshotMessage } from "./protocol.ts"

/** Any failure that explains itself in one sentence (the lab's ActionError, BindError ...). */
export interface Explained {
  readonly message: string
}

/** The part of an analyzer's log store the `logs` command reads. */
export interface ControlLogStore {
  query(query: LogQuery): ReadonlyArray<StoredLog>
  count(query: LogCountQuery): number
}

/** An analyzer's device registry and log store, as the control channel uses them. */
export interface ControlAnalyzer {
  readonly id: string
  readonly store: ControlLogStore
  listDevices(): ReadonlyArray<RegisteredDevice>
  authorizeDevice(serial: string, adom: string | null): Effect.Effect<{ readonly released: number }, Explained>
  deleteDevice(serial: string): Effect.Effect<{ readonly dropped: number }, Explained>
}

export interface ControlTarget {
  readonly name: string
  readonly bus: { subscribe(subscriber: (event: LabEvent) => void): () => void }
  readonly devices: ReadonlyMap<string, { readonly kind: string; status(): string }>
  readonly plan: { boundEndpoints(): ReadonlyArray<ListenerSummary> }
  perform(action: Action): Effect.Effect<void, Explained>
  analyzers(): ReadonlyArray<ControlAnalyzer>
  /** HA members' groups and roles right now. */
  haRoles(): ReadonlyArray<{ readonly device: string; readonly group: string; readonly role: string }>
  /** Starts the scenario step that waits for its time now; fails when none waits (or no scenario runs). */
  stepNow(): Effect.Effect<{ readonly step: number; readonly title: string }, Explained>
}

/** Each device's kind and status, and an HA member's group and role. */
const deviceSummaries = (target: ControlTarget): SnapshotMessage["devices"] => {
  const roles = new Map(target.haRoles().map(({ device, group, role }) => [device, { group, role }]))
  return [...target.devices].map(([id, device]) => {
    const ha = roles.get(id)
    return { id, kind: device.kind, status: device.status(), ...(ha === undefined ? {} : { ha }) }
  })
}

/** The first message every client gets: the lab as it is now. */
export const snapshotOf = (target: ControlTarget): SnapshotMessage => ({
  v: PROTOCOL_VERSION,
  type: "snapshot",
  lab: target.name,
  devices: deviceSummaries(target),
  listeners: target.plan.boundEndpoints().map(({ device, port, address, actualPort }) => ({ device, port, address, actualPort }))
})
