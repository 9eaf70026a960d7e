/**
 * One run of a device that listens (the analyzer, the FortiManager), from `start` to `stop` or
 * `kill`: the device's status and the scope its listeners are bound in.
 *
 * `start` lets the device prepare (certificates, the servers that hold them), opens the scope and
 * binds the device's listeners in it. A bind that fails is announced (`listener-failed`), leaves
 * the device `failed` and releases whatever did bind, so a later start can try again. `halt` lets
 * the device say goodbye (or not, in a crash), closes the scope, and with it the listeners, then
 * lets the device tidy up. `device-started` and `device-stopped` are announced here, after the
 * device's own steps; both calls do nothing when there is nothing to start or stop.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { EventBus } from "../../events/bus.ts"
import type { PortKey } from "../../events/events.ts"
import type { BindError } from "../../net/errors.ts"
import type { DeviceStatus } from "../device.ts"

/** How a run ends: `stop` is "clean" (goodbyes said, pending work flushed), `kill` a "crash". */
export type Halt = "clean" | "crash"

/** A device's own steps in a start, in the order they run; each is called only when reached. */
export interface StartSteps<A> {
  /** Before the scope opens. */
  readonly prepare: () => Effect.Effect<void>
  /** Binds the listeners in the run's scope; they close with it. */
  readonly bind: () => Effect.Effect<A, BindError, Scope.Scope>
  /** Once bound, before the device counts as running. */
  readonly bound?: (listeners: A) => Effect.Effect<void>
  /** After `device-started`. */
  readonly started?: () => void
}

/** A device's own steps in a stop or a kill. */
export interface HaltSteps {
  /** Before the scope, and the listeners in it, close. */
  readonly closing: Effect.Effect<void>
  /** After they closed, before `device-stopped`. */
  readonly closed: () => void
}

export class ListenerRun {
  readonly #device: { readonly id: string; readonly kind: string }
  readonly #bus: EventBus
  #scope: Scope.Closeable | null = null
  #status: DeviceStatus = "stopped"

  constructor(device: { readonly id: string; readonly kind: string }, bus: EventBus) {
    this.#device = device
    this.#bus = bus
  }

  get status(): DeviceStatus {
    return this.#status
  }

  /** Whether a run is open: from the start of `start` to the start of `halt` (or a failed bind). */
  get open(): boolean {
    return this.#scope !== null
  }

  start<A>(steps: StartSteps<A>): Effect.Effect<void, BindError> {
    const self = this
    return Effect.gen(function*() {
      if (self.#scope !== null) return
      self.#status = "starting"
      yield* steps.prepare()
      const scope = yield* Scope.make()
      self.#scope = scope
      const listeners = yield* Scope.provide(scope)(steps.bind()).pipe(
        Effect.tapError((error) =>
          Effect.gen(function*() {
            self.#bus.publish({
              type: "listener-failed",
              device: error.device,
              port: error.port as PortKey,
              address: error.address,
              actualPort: error.actualPort,
              code: error.code,
              reason: error.reason
            })
            self.#status = "failed"
            self.#scope = null
            yield* Scope.close(scope, Exit.void)
          })
        )
      )
      if (steps.bound !== undefined) yield* steps.bound(listeners)
      self.#status = "running"
      self.#bus.publish({ type: "device-started", device: self.#device.id, kind: self.#device.kind })
      steps.started?.()
    })
  }

  halt(steps: HaltSteps): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      const scope = self.#scope
      if (scope === null) return
      self.#scope = null
      yield* steps.closing
      yield* Scope.close(scope, Exit.void)
      steps.closed()
      self.#status = "stopped"
      self.#bus.publish({ type: "device-stopped", device: self.#device.id, kind: self.#device.kind })
    })
  }
}
