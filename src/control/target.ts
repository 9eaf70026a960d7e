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
import {
  type ControlCommand,
  type ListenerSummary,
  type NodeEventsCommand,
  type NodeRequest,
  PROTOCOL_VERSION,
  type RegisteredDevice,
  type SentResult,
  type SnapshotMessage
} from "./protocol.ts"

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

/** A node connected to the control channel, as the lab asks it things (the server answers for the connection). */
export interface NodeLink {
  /** The node's answer's result; rejects with the node's sentence, or when the node's connection is gone. */
  request(request: NodeRequest): Promise<unknown>
}

/** What a lab whose devices run in processes of their own does with the nodes that connect to it. */
export interface NodeHub {
  /** A node says which device it runs: from now on requests for that device go to `link`. */
  hello(device: string, pid: number, link: NodeLink): Effect.Effect<{ readonly lab: string; readonly received: number }, Explained>
  /** A batch of the node's events (publishes the ones not seen yet); how many of its events the lab now has. */
  events(command: typeof NodeEventsCommand.Type, link: NodeLink): Effect.Effect<{ readonly received: number }, Explained>
  /** A node takes (or gives back) an address of the lab: granted when nobody else holds it. */
  address(device: string, address: string, take: boolean): Effect.Effect<{ readonly address: string; readonly holder: string | null; readonly granted: boolean }, Explained>
  /** The node's connection closed. */
  gone(link: NodeLink): void
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
  /** Where a device runs, when it runs outside the lab's process: its address, and its network namespace. */
  placementOf?(device: string): { readonly address?: string; readonly netns?: string }
  /** A command about a device or analyzer that runs in another process, sent on to it; null when it runs here. */
  forward?(command: ControlCommand): Effect.Effect<unknown, Explained> | null
  /** A log sender's name and the highest sequence number it generated for any of `analyzers` (`sent`). */
  senderFacts?(device: string, analyzers: ReadonlyArray<string>): Effect.Effect<typeof SentResult.Type, Explained>
  /** Set where devices run as nodes (`fazlab node`) that connect to this channel. */
  readonly nodes?: NodeHub
}

/** Each device's kind and status, and an HA member's group and role. */
const deviceSummaries = (target: ControlTarget): SnapshotMessage["devices"] => {
  const roles = new Map(target.haRoles().map(({ device, group, role }) => [device, { group, role }]))
  return [...target.devices].map(([id, device]) => {
    const ha = roles.get(id)
    return { id, kind: device.kind, status: device.status(), ...(ha === undefined ? {} : { ha }), ...target.placementOf?.(id) }
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
