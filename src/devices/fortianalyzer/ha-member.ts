/**
 * An analyzer's HA side: runs `haMemberMachine` (machines/ha-member.ts) for one member of a group
 * and supplies its I/O over real TCP on the member's own TCP/5199, with the frames of
 * `protocols/ha/frames.ts` and the sync records of `protocols/ha/sync.ts` (docs/protocols/ha.md,
 * "How the lab wires it"). The machine decides the role; the role's work is in two modules:
 *
 * - `ha-primary.ts`: TCP/5199 and the VIP (one scoped resource held while primary), JOINs,
 *   catch-up, heartbeats, every stored log and registry change synced out.
 * - `ha-secondary.ts`: the link to the primary, heartbeats answered, synced logs and registry
 *   rows stored.
 *
 * Here: the member's lifecycle and faults. Kill is abrupt: sockets are destroyed without
 * GOODBYE. Stop is clean. Freeze is a hung process: the member stops reading and sending (its
 * sockets stay open, paused) and a primary gives up TCP/5199 and the VIP; thawed, it drops those
 * sockets and starts over. A partition (the group's `HaNetwork`) closes the links between the
 * two members at once.
 */
import type * as net from "node:net"
import { type Actor, createActor, fromPromise } from "xstate"
import { LatenessClock } from "../../machines/clock.ts"
import { countedHeartbeats, type HaMember } from "../../machines/ha-election.ts"
import {
  type HaConnectInput,
  type HaMemberEmitted,
  type HaMemberPhase,
  haMemberMachine,
  haMemberPhase,
  type HaMemberRole,
  type HaProbeInput
} from "../../machines/ha-member.ts"
import { dialTcp } from "../../net/tcp.ts"
import type { LogRecordInput } from "../../store/log-record.ts"
import { HA_PORT, type HaGroupConfig } from "./ha-group.ts"
import type { HaHost, HaMemberView } from "./ha-link.ts"
import { HaPrimary } from "./ha-primary.ts"
import { HaSecondary } from "./ha-secondary.ts"

type MemberActor = Actor<typeof haMemberMachine>

export class AnalyzerHa {
  readonly config: HaGroupConfig
  readonly #host: HaHost
  /** The host's clock, telling how late the timer that runs now fired: a stalled process judges no peer silent. */
  readonly #clock: LatenessClock
  readonly #self: HaMember
  readonly #primary: HaPrimary
  readonly #secondary: HaSecondary
  #actor: MemberActor | null = null
  /** Killed: step down without GOODBYE. */
  #abrupt = false
  /** Frozen: reads and sends nothing until THAW. */
  #frozen = false
  /** A frozen member's sockets: open, paused (nothing read, nothing sent), dropped at THAW or stop. */
  readonly #parked = new Set<net.Socket>()
  readonly #unwatch: () => void

  constructor(host: HaHost, config: HaGroupConfig) {
    this.#host = host
    this.#clock = new LatenessClock(host.clock)
    this.config = config
    const self = config.members.find((member) => member.serial === host.serial)
    if (self === undefined) throw new Error(`bug: ${host.id} is not a member of HA group ${config.group}`)
    this.#self = self
    const view: HaMemberView = {
      host,
      config,
      self,
      phase: () => this.phase(),
      tell: (event) => this.#actor?.send(event),
      abrupt: () => this.#abrupt,
      frozen: () => this.#frozen,
      park: (socket) => this.#park(socket),
      cutFrom: (member) => this.#cutFrom(member),
      nameOf: (serial) => this.#nameOf(serial),
      // The timer that runs now fired more than a heartbeat period late: this process was stalled,
      // and what its links received meanwhile may still be unread. Silence then proves nothing yet.
      stalled: () => this.#clock.lateness() > config.hbIntervalMs,
      lostWindowMs: config.hbIntervalMs * config.hbLostThreshold,
      now: () => Math.max(0, Math.round(host.clock.now()))
    }
    this.#primary = new HaPrimary(view)
    this.#secondary = new HaSecondary(view)
    this.#unwatch = config.network.onPartition((a, b) => this.#partitioned(a, b))
  }

  /** The group's key in the scenario (the port plan's name for its virtual IP). */
  get group(): string {
    return this.config.group
  }

  /** Each other member as this one's links see it: a link up to it, and that link in sync (caught up). */
  links(): ReadonlyArray<{ readonly member: HaMember; readonly connected: boolean; readonly synced: boolean }> {
    return this.config.members.filter((member) => member !== this.#self).map((member) => {
      const down = this.#primary.linkTo(member.serial)
      if (down !== null) return { member, connected: true, synced: down.joined }
      return this.#secondary.primary === member.serial ? { member, connected: true, synced: this.#secondary.synced } : { member, connected: false, synced: false }
    })
  }

  /** The role right now (`none` while stopped, starting or electing). */
  role(): HaMemberRole {
    const phase = this.phase()
    return phase === "primary" ? "primary" : phase === "joining" || phase === "syncing" || phase === "inSync" ? "secondary" : "none"
  }

  phase(): HaMemberPhase {
    return this.#actor === null ? "stopped" : haMemberPhase(this.#actor.getSnapshot())
  }

  /** Why the member is where it is, as a sentence. */
  reason(): string {
    return this.#actor?.getSnapshot().context.reason ?? `${this.#host.id} is stopped`
  }

  start(): void {
    this.#abrupt = false
    this.#unfreeze()
    if (this.#actor === null) {
      this.#actor = this.#createActor()
      this.#actor.start()
    } else {
      this.#actor.send({ type: "START" })
    }
  }

  /** Clean stop: a primary says GOODBYE to its secondaries. Resolves when TCP/5199 and the VIP are closed. */
  stop(): Promise<void> {
    this.#abrupt = false
    this.#actor?.send({ type: "STOP" })
    this.#unfreeze()
    return this.#primary.settled()
  }

  /** Abrupt stop (a crash): every HA socket is cut without a word. */
  kill(): Promise<void> {
    this.#abrupt = true
    this.#actor?.send({ type: "KILL" })
    this.#cutAll()
    this.#unfreeze()
    return this.#primary.settled()
  }

  /**
   * Alive but silent, as a hung process: no heartbeats, no answers, nothing read. A primary gives
   * up TCP/5199 and the VIP at once (without GOODBYE: its secondaries miss its heartbeats).
   */
  freeze(): void {
    this.#frozen = true
    this.#actor?.send({ type: "FREEZE" })
  }

  /** Back from a freeze: the old sockets are dropped and the member starts over (probe, then join or elect). */
  thaw(): void {
    this.#unfreeze()
    this.#actor?.send({ type: "THAW" })
  }

  /** Stops the machine for good. */
  dispose(): void {
    this.#unwatch()
    this.#actor?.stop()
    this.#cutAll()
    this.#primary.dispose()
    this.#unfreeze()
  }

  /** See `HaPrimary.replicate`: an OFTP batch to the secondaries, and when they have it. */
  replicate(serial: string, records: ReadonlyArray<LogRecordInput & { readonly seq: number }>, held: boolean): Promise<void> | null {
    return this.#primary.replicate(serial, records, held)
  }

  /** See `HaPrimary.forwardLogs`: logs stored without an acknowledgement, to the secondaries. */
  forwardLogs(batch: ReadonlyArray<LogRecordInput>, firstId: number): void {
    this.#primary.forwardLogs(batch, firstId)
  }

  configChanged(): void {
    this.#primary.configChanged()
  }

  deviceDeleted(serial: string): void {
    this.#primary.deviceDeleted(serial)
  }

  #unfreeze(): void {
    this.#frozen = false
    for (const socket of this.#parked) socket.destroy()
    this.#parked.clear()
  }

  /** A frozen member keeps its sockets open but reads nothing more from them. */
  #park(socket: net.Socket): void {
    socket.pause()
    this.#parked.add(socket)
    socket.once("close", () => this.#parked.delete(socket))
  }

  #cutFrom(member: HaMember): boolean {
    return this.config.network.isCut(this.#self.name, member.name)
  }

  /** A new partition: the links between this member and the other one close at once. */
  #partitioned(a: string, b: string): void {
    const me = this.#self.name
    if (a !== me && b !== me) return
    const other = this.config.members.find((member) => member.name === (a === me ? b : a))
    if (other === undefined) return
    this.#primary.cut(other.serial)
    this.#secondary.cut(other.serial)
  }

  #cutAll(): void {
    this.#primary.cut()
    this.#secondary.cut()
  }

  #nameOf(serial: string | null): string {
    return this.config.members.find((member) => member.serial === serial)?.name ?? serial ?? "nobody"
  }

  /** Does `member` accept on its TCP/5199 right now (seen from this member)? */
  async #listens(member: HaMember): Promise<boolean> {
    if (this.#cutFrom(member)) return false
    const target = this.#host.plan.resolve(member.address, HA_PORT)
    if (target.actualPort === 0) return false
    const localAddress = this.#host.plan.sourceAddressOf(this.#host.id)
    try {
      const socket = await dialTcp({
        host: target.address,
        port: target.actualPort,
        timeoutMs: Math.min(this.config.hbIntervalMs, 1000),
        ...(localAddress === undefined ? {} : { localAddress })
      })
      socket.destroy()
      return !this.#cutFrom(member)
    } catch {
      return false
    }
  }

  #createActor(): MemberActor {
    const machine = haMemberMachine.provide({
      guards: { ownTimerLate: () => this.#clock.lateness() > this.config.hbIntervalMs },
      actors: {
        probePeers: fromPromise<string | null, HaProbeInput>(async ({ input }) => {
          const answers = await Promise.all(input.peers.map((peer) => this.#listens(peer)))
          return input.peers.find((_, i) => answers[i] === true)?.serial ?? null
        }),
        connectToPrimary: fromPromise<void, HaConnectInput>(({ input, signal }) => this.#secondary.join(input.primary, signal))
      },
      actions: {
        becomePrimary: () => this.#primary.becomePrimary(),
        stepDown: () => this.#primary.stepDown(),
        sendHeartbeats: () => this.#primary.heartbeat(),
        probeForOtherPrimary: () => {
          for (const other of this.config.members) {
            if (other.serial === this.#self.serial) continue
            void this.#listens(other).then((listening) => {
              if (!listening || this.phase() !== "primary") return
              const holder = this.config.vip ? this.config.network.vipHolder : null
              const vip = holder === this.#self.name ? "mine" : holder === other.name ? "theirs" : "none"
              this.#actor?.send({ type: "OTHER_PRIMARY", serial: other.serial, vip })
            })
          }
        },
        answerHeartbeat: () => this.#secondary.answerHeartbeat(),
        requestHandover: () => this.#secondary.requestHandover(),
        grantHandover: ({ context }) => this.#primary.grantHandover(context.currentPrimary),
        leavePrimary: () => this.#secondary.leave()
      }
    })
    const actor = createActor(machine, {
      input: {
        self: this.#self.serial,
        members: this.config.members,
        hbIntervalMs: this.config.hbIntervalMs,
        hbLostThreshold: this.config.hbLostThreshold
      },
      clock: this.#clock
    })
    actor.on("*", (event) => this.#publish(event))
    actor.subscribe((snapshot) => {
      const phase = haMemberPhase(snapshot)
      if (phase === "syncing" && this.#secondary.synced) queueMicrotask(() => this.#actor?.send({ type: "SYNCED" }))
      if (phase !== "inSync") return
      const caughtUp = this.#secondary.takeCatchUp()
      if (caughtUp === null) return
      const { primary, stored } = caughtUp
      const reason = `${this.#self.name} caught up with ${primary}: ${stored} ${stored === 1 ? "log" : "logs"} stored; it is in sync and may take over`
      this.#host.bus.publish({ type: "ha-synced", device: this.#host.id, group: this.config.group, primary, stored, reason })
    })
    return actor
  }

  #publish(event: HaMemberEmitted): void {
    const { bus } = this.#host
    const group = this.config.group
    switch (event.type) {
      case "role-changed":
        bus.publish({ type: "ha-role", device: this.#host.id, group, role: event.role, reason: event.reason })
        break
      case "split-brain":
        // Once per split brain: the lab may have reported it when the second primary appeared.
        if (!this.config.network.reportSplitBrain()) return
        bus.publish({ type: "ha-split-brain", group, primaries: event.primaries.map((s) => this.#nameOf(s)), reason: event.reason })
        break
      case "split-brain-healed":
        bus.publish({ type: "ha-split-brain-healed", group, stepsDown: this.#nameOf(event.stepsDown), stays: this.#nameOf(event.stays), reason: event.reason })
        break
      case "heartbeat-missed":
        bus.publish({ type: "ha-heartbeat-missed", device: this.#host.id, group, from: this.#nameOf(event.from), missed: event.missed, heartbeats: countedHeartbeats(event.missed) })
        break
      case "heartbeat-resumed":
        bus.publish({ type: "ha-heartbeat-resumed", device: this.#host.id, group, from: this.#nameOf(event.from), missed: event.missed, heartbeats: countedHeartbeats(event.missed) })
        break
    }
  }
}
