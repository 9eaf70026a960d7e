/**
 * The common part of an emulated peer server (DNS, NTP, the SMTP relay, LDAP, RADIUS ...): a
 * device that only listens on its documented ports on its own lab address and answers, and that
 * the analyzer dials. A kind extends `PeerServer` and says only what is its own: how it binds
 * (`bind`, with `udp` / `tcp` to bind a port of its own address where the port plan says, and
 * `announce` to record and publish what it bound), what it prepares before binding, and what a
 * stop or a crash does before and after its listeners close.
 *
 * The run (status, scope, `device-started` / `device-stopped`, `listener-failed` on a failed
 * bind) is a `ListenerRun`; `announce` publishes `listener-bound` for each endpoint and, when the
 * run's scope closes, forgets it in the port plan and publishes `listener-closed`.
 */
import type { RemoteInfo } from "node:dgram"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { PortKey } from "../../events/events.ts"
import type { BindError } from "../../net/errors.ts"
import { listenTcp, type TcpListener, type TcpListenOptions } from "../../net/tcp.ts"
import { listenUdp, type UdpServer } from "../../net/udp.ts"
import type { Device, DeviceContext, DeviceStatus } from "../device.ts"
import { type Halt, ListenerRun } from "./listener-run.ts"

/** A port a peer bound: where it is. */
export interface BoundEndpoint {
  readonly port: PortKey
  readonly address: string
  readonly actualPort: number
}

export abstract class PeerServer<Settings extends { readonly serial: string }> implements Device {
  abstract readonly kind: string
  readonly id: string
  readonly serial: string
  readonly settings: Settings
  protected readonly context: DeviceContext
  readonly #run: ListenerRun

  constructor(id: string, settings: Settings, context: DeviceContext) {
    this.id = id
    this.serial = settings.serial
    this.settings = settings
    this.context = context
    this.#run = new ListenerRun(this, context.bus)
  }

  status(): DeviceStatus {
    return this.#run.status
  }

  start(): Effect.Effect<void, BindError> {
    return this.#run.start({ prepare: () => this.prepare(), bind: () => this.bind() })
  }

  /** Clean stop: what `closing("clean")` says goodbye with, then the listeners close. */
  stop(): Effect.Effect<void> {
    return this.#halt("clean")
  }

  /** A crash: `closing("crash")` cuts what is open; nothing more is said. */
  kill(): Effect.Effect<void> {
    return this.#halt("crash")
  }

  dispose(): Effect.Effect<void> {
    return this.stop()
  }

  /** Before the listeners bind (a certificate, a server that holds it). */
  protected prepare(): Effect.Effect<void> {
    return Effect.void
  }

  /** Binds the peer's listeners in the run's scope (they close with it) and `announce`s them. */
  protected abstract bind(): Effect.Effect<void, BindError, Scope.Scope>

  /** Before the listeners close in a stop or a kill. */
  protected closing(_how: Halt): Effect.Effect<void> {
    return Effect.void
  }

  /** After they closed, before `device-stopped`. */
  protected closed(): void {}

  #halt(how: Halt): Effect.Effect<void> {
    return this.#run.halt({ closing: this.closing(how), closed: () => this.closed() })
  }

  /** The peer's own lab address. */
  protected get host(): string {
    return this.context.plan.addressOf(this.id)
  }

  /** Binds `port` (a UDP one) on the peer's address, where the port plan says. */
  protected udp(port: PortKey, receiveBufferBytes: number, onMessage: (message: Buffer, peer: RemoteInfo) => void): Effect.Effect<UdpServer, BindError, Scope.Scope> {
    return listenUdp({ device: this.id, port, host: this.host, actualPort: this.context.plan.listenPortFor(port), receiveBufferBytes, onMessage })
  }

  /** Binds `port` (a TCP one) on the peer's address, where the port plan says. */
  protected tcp(port: PortKey, options: Omit<TcpListenOptions, "device" | "port" | "host" | "actualPort">): Effect.Effect<TcpListener, BindError, Scope.Scope> {
    return listenTcp({ device: this.id, port, host: this.host, actualPort: this.context.plan.listenPortFor(port), ...options })
  }

  /** Records and publishes what the peer bound; forgets it and says so when the run's scope closes. */
  protected announce(endpoints: ReadonlyArray<BoundEndpoint>): Effect.Effect<void, never, Scope.Scope> {
    const { plan, bus } = this.context
    for (const endpoint of endpoints) {
      plan.recordBound({ device: this.id, ...endpoint })
      bus.publish({ type: "listener-bound", device: this.id, ...endpoint })
    }
    return Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const { port } of endpoints) {
          plan.forget(this.id, port)
          bus.publish({ type: "listener-closed", device: this.id, port })
        }
      })
    )
  }
}
