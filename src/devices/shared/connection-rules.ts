/**
 * The device side of the connection rules every TCP listener enforces (src/net/tcp.ts): the
 * listener options that name a device's settings, run its time limits on the lab clock, count
 * each closing by rule for the device's lifetime (across restarts) and publish it as a
 * `connection-closed` event with the rule. The analyzer, its HA side and the FortiManager bind
 * through it, and so should any listener a device adds.
 */
import type { EventBus } from "../../events/bus.ts"
import type { ConnectionRule, PortKey } from "../../events/events.ts"
import type { PortPlan } from "../../net/port-plan.ts"
import { type ClosedConnection, type ConnectionLimitSettings, type TcpLimits, type TcpTimers, tcpLimits } from "../../net/tcp.ts"

export class ConnectionRules {
  /** Connections refused or closed, by rule, since the device was built. */
  readonly closed: Record<ConnectionRule, number> = { "max-connections": 0, "max-connections-per-source": 0, "first-byte-timeout": 0, "idle-timeout": 0 }
  readonly #device: string
  readonly #context: { readonly bus: EventBus; readonly plan: PortPlan; readonly clock: TcpTimers }

  constructor(device: string, context: { readonly bus: EventBus; readonly plan: PortPlan; readonly clock: TcpTimers }) {
    this.#device = device
    this.#context = context
  }

  /** `listenTcp`'s limits, timers and `onClosed` for `port`, whose settings live at `settings` ("devices.faz-1.syslog"; null: fixed). */
  listener(configured: ConnectionLimitSettings, settings: string | null, port: PortKey): {
    readonly limits: TcpLimits
    readonly timers: TcpTimers
    readonly onClosed: (closed: ClosedConnection) => void
  } {
    const { bus, plan, clock } = this.#context
    return {
      limits: tcpLimits(configured, plan.addressing, settings),
      timers: clock,
      onClosed: ({ peer, rule, reason, report }) => {
        this.closed[rule]++
        if (report) bus.publish({ type: "connection-closed", device: this.#device, port, peer, reason, rule })
      }
    }
  }
}
