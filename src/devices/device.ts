/**
 * What every emulated device is to the lab: an id, a kind, a lifecycle and a health line.
 *
 * A device gets a `DeviceContext` (event bus, port plan, clock, data folder) and nothing else of
 * the lab, so a device kind can run in-process today and one per process later. `start` binds
 * or connects what the device needs; `stop` releases all of it; both are idempotent.
 */
import type * as Effect from "effect/Effect"
import type { EventBus } from "../events/bus.ts"
import type { LabClock } from "../machines/clock.ts"
import type { BindError } from "../net/errors.ts"
import type { PortPlan } from "../net/port-plan.ts"

export type DeviceKind = "fortianalyzer" | "fortigate" | "forticlient"

export type DeviceStatus = "stopped" | "starting" | "running" | "failed"

export interface DeviceContext {
  readonly bus: EventBus
  readonly plan: PortPlan
  readonly clock: LabClock
  /** The lab's data folder, or null for an in-memory lab. */
  readonly dataDir: string | null
}

export interface Device {
  readonly id: string
  readonly kind: DeviceKind
  status(): DeviceStatus
  start(): Effect.Effect<void, BindError>
  stop(): Effect.Effect<void>
}
