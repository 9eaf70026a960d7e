/**
 * What the control channel needs of a lab, and nothing more: its name, its event bus, its
 * devices and listeners (for the snapshot), its actions, and its analyzers' device registries.
 *
 * `Lab` (src/lab/lab.ts) satisfies `ControlTarget` as it is, so `serveControl(lab, ...)` needs
 * no adapter; tests can serve a small fake instead.
 */
import type * as Effect from "effect/Effect"
import type { LabEvent } from "../events/events.ts"
import type { Action } from "../lab/scenario/schema.ts"
import { type ListenerSummary, PROTOCOL_VERSION, type RegisteredDevice, type SnapshotMessage } from "./protocol.ts"

/** Any failure that explains itself in one sentence (the lab's ActionError, BindError ...). */
export interface Explained {
  readonly message: string
}

/** An analyzer's device registry, as the control channel uses it. */
export interface ControlAnalyzer {
  readonly id: string
  listDevices(): ReadonlyArray<RegisteredDevice>
  authorizeDevice(serial: string, adom: string | null): Effect.Effect<{ readonly released: number }, Explained>
  deleteDevice(serial: string): Effect.Effect<{ readonly dropped: number }, Explained>
}

export interface ControlTarget {
  readonly name: string
  readonly bus: { subscribe(subscriber: (event: LabEvent) => void): () => void }
  /** `ha` for an analyzer in an HA group: its group and its role right now. */
  readonly devices: ReadonlyMap<string, {
    readonly kind: string
    status(): string
    readonly ha?: { readonly group: string; role(): string } | null
  }>
  readonly plan: { boundEndpoints(): ReadonlyArray<ListenerSummary> }
  perform(action: Action): Effect.Effect<void, Explained>
  analyzers(): ReadonlyArray<ControlAnalyzer>
}

/** The first message every client gets: the lab as it is now. */
export const snapshotOf = (target: ControlTarget): SnapshotMessage => ({
  v: PROTOCOL_VERSION,
  type: "snapshot",
  lab: target.name,
  devices: [...target.devices].map(([id, device]) => ({
    id,
    kind: device.kind,
    status: device.status(),
    ...(device.ha === undefined || device.ha === null ? {} : { ha: { group: device.ha.group, role: device.ha.role() } })
  })),
  listeners: target.plan.boundEndpoints().map(({ device, port, address, actualPort }) => ({ device, port, address, actualPort }))
})
