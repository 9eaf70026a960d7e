/**
 * What the two sides of an HA member (`ha-primary.ts`, `ha-secondary.ts`) share: the member as
 * they see it (its host analyzer, its group, its machine's phase, its faults), and sending a
 * frame, an ERROR, or a heartbeat through the group's network (which may drop or delay it).
 */
import type * as net from "node:net"
import type { EventBus } from "../../events/bus.ts"
import type { PortKey } from "../../events/events.ts"
import type { LabClock } from "../../machines/clock.ts"
import type { HaMember } from "../../machines/ha-election.ts"
import type { HaMemberEvent, HaMemberPhase } from "../../machines/ha-member.ts"
import type { BindError } from "../../net/errors.ts"
import type { PortPlan } from "../../net/port-plan.ts"
import { encodeFrame, type HaErrorCode, type HaFrame } from "../../protocols/ha/frames.ts"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { LogStore } from "../../store/log-store.ts"
import type { ConnectionRules } from "../shared/connection-rules.ts"
import type { HaGroupConfig } from "./ha-group.ts"

/** What the analyzer gives its HA side. */
export interface HaHost {
  readonly id: string
  readonly serial: string
  readonly store: LogStore
  readonly bus: EventBus
  readonly plan: PortPlan
  readonly clock: LabClock
  /** The analyzer's connection rules, which TCP/5199 follows with fixed limits (`HA_PORT_LIMITS`). */
  readonly connections: ConnectionRules
  /** The analyzer's ports, all bound on the group's virtual IP by its primary. */
  readonly vipPorts: ReadonlyArray<PortKey>
  /** Binds the analyzer's listeners on the group's virtual IP in the scope given; they close with it. */
  bindVip(): Effect.Effect<void, BindError, Scope.Scope>
}

/** One member of a group, as its primary and secondary sides see it. */
export interface HaMemberView {
  readonly host: HaHost
  readonly config: HaGroupConfig
  readonly self: HaMember
  phase(): HaMemberPhase
  /** Sends an event to the member's machine. */
  tell(event: HaMemberEvent): void
  /** Killed: links are cut without GOODBYE. */
  abrupt(): boolean
  /** Frozen: a socket the member lets go of is parked (open, unread) instead. */
  frozen(): boolean
  park(socket: net.Socket): void
  /** Is HA traffic between this member and `member` cut (a partition)? */
  cutFrom(member: HaMember): boolean
  /** A member's lab name by serial. */
  nameOf(serial: string | null): string
  /** The timer running now fired more than a heartbeat period late: silence proves nothing yet. */
  stalled(): boolean
  /** hb-interval × hb-lost-threshold, in milliseconds. */
  readonly lostWindowMs: number
  /** The lab clock in whole milliseconds (heartbeats carry it). */
  now(): number
}

export const send = (socket: net.Socket, frame: HaFrame): void => {
  if (!socket.destroyed && socket.writable) socket.write(encodeFrame(frame))
}

export const errorFrame = (code: HaErrorCode, reason: string): HaFrame => ({ type: "error", body: { code, reason } })

/** Sends a heartbeat to the member with `serial`, as the group's network lets it through (the hb-delay / hb-loss faults). */
export const sendHeartbeat = (member: HaMemberView, socket: net.Socket, serial: string, frame: HaFrame): void => {
  const fate = member.config.network.heartbeatFate(member.self.name, member.nameOf(serial))
  if (fate.drop) return
  if (fate.delayMs === 0) send(socket, frame)
  else member.host.clock.setTimeout(() => {
    if (!socket.destroyed) send(socket, frame)
  }, fate.delayMs)
}
