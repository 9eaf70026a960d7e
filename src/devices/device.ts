/**
 * What every emulated device is to the lab: an id, a kind, a lifecycle and a health line.
 *
 * A device gets a `DeviceContext` (event bus, port plan, clock, data folder) and nothing else of
 * the lab, so a device kind can run in-process today and one per process later. `start` binds
 * or connects what the device needs; `stop` releases all of it; both are idempotent.
 */
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Schema from "effect/Schema"
import type { EventBus } from "../events/bus.ts"
import type { LabClock } from "../machines/clock.ts"
import type { BindError } from "../net/errors.ts"
import type { PortKey } from "../events/events.ts"
import type { LabPki } from "../net/pki.ts"
import type { PortPlan } from "../net/port-plan.ts"

/** A lab action (a scenario step, a control command) that could not be done, in one sentence. */
export class ActionError extends Schema.TaggedError<ActionError>()("ActionError", {
  action: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.action}: ${this.reason}`
  }
}

export type DeviceStatus = "stopped" | "starting" | "running" | "failed"

export interface DeviceContext {
  readonly bus: EventBus
  readonly plan: PortPlan
  readonly clock: LabClock
  /** The lab's data folder, or null for an in-memory lab. */
  readonly dataDir: string | null
  /** The lab's CA and certificates (TLS for OFTP); null where a device needs no TLS (`fazlab send`). */
  readonly pki: LabPki | null
  /**
   * The network interface of a device in a network namespace of its own (docs/placement.md):
   * `takeAddress` puts an address on it (an HA primary's virtual IP, announced with a gratuitous
   * ARP) until the scope closes; it fails as a bind would (EADDRINUSE) while another device of
   * the lab holds that address. Absent on loopback, where every address is there already.
   */
  readonly host?: {
    takeAddress(address: string, port: PortKey): Effect.Effect<void, BindError, Scope.Scope>
  }
}

export interface Device {
  readonly id: string
  /** Its kind's name (`kind:` in a scenario; see `registry.ts`). */
  readonly kind: string
  /** Its serial: the certificate CN of a listener, the serial a sender's logs and registrations carry. */
  readonly serial: string
  status(): DeviceStatus
  start(): Effect.Effect<void, BindError>
  /** Clean stop: goodbyes are said, pending work is flushed. */
  stop(): Effect.Effect<void>
  /** Abrupt stop, as a crash or a pulled cable: connections are cut, nothing is flushed or said. */
  kill(): Effect.Effect<void>
  /** Stops for good and releases everything (stores, machines). */
  dispose(): Effect.Effect<void>
}

/** A device that generates logs (FortiGate, FortiClient). */
export interface LogSource extends Device {
  /** The name its logs carry (FortiOS devname / FortiClient hostname): how the analyzer files them. */
  readonly hostname: string
  /** Highest sequence number generated for `analyzer` (0 when it sends that analyzer nothing). */
  sentTo(analyzer: string): number
  pause(): void
  resume(): void
  burst(count: number): void
}
