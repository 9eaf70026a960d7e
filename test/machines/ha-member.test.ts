/**
 * One HA member as a machine, tested as a group: several members on one simulated clock with
 * stub device actors and actions, over a simulated network that can kill, freeze and partition.
 */
import { describe, expect, it } from "vitest"
import { type Actor, createActor, fromPromise } from "xstate"
import { SimulatedLabClock } from "../../src/machines/clock.ts"
import type { HaMember } from "../../src/machines/ha-election.ts"
import { HA_ROLE_HISTORY_LIMIT, type HaConnectInput, type HaMemberPhase, haMemberMachine, haMemberPhase, type HaProbeInput } from "../../src/machines/ha-member.ts"

const HB_INTERVAL_MS = 1000
const HB_LOST_THRESHOLD = 3
const LOST_WINDOW_MS = HB_INTERVAL_MS * HB_LOST_THRESHOLD

type MemberActor = Actor<typeof haMemberMachine>

/** A member of the test group: "faz-a" is FAZ-VM000000000A. */
const faz = (letter: string, priority = 100, preferredRole: HaMember["preferredRole"] = "secondary"): HaMember => ({
  name: `faz-${letter}`,
  serial: `FAZ-VM000000000${letter.toUpperCase()}`,
  address: `127.0.1.${letter.charCodeAt(0) - 96}:5199`,
  priority,
  preferredRole
})

const drain = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

class Cluster {
  readonly clock = new SimulatedLabClock()
  /** Emitted events and device actions, as "<ms> <name> <what>". */
  readonly log: string[] = []
  /** The most members acting as primary at once. */
  maxPrimaries = 0
  /** Send SYNCED as soon as a member reaches `syncing`. */
  autoSync = true
  /** Members whose process stalls: every timer of theirs fires late (the device's `ownTimerLate`). */
  readonly stalled = new Set<string>()
  readonly #members: ReadonlyArray<HaMember>
  readonly #actors = new Map<string, MemberActor>()
  /** Members whose process is gone or hung: their step-down says no GOODBYE. */
  readonly #silent = new Set<string>()
  readonly #cut = new Set<string>()
  /** secondary serial → primary serial, for links that completed JOIN / WELCOME. */
  readonly #links = new Map<string, string>()

  constructor(members: ReadonlyArray<HaMember>) {
    this.#members = members
  }

  member(name: string): HaMember {
    const found = this.#members.find((m) => m.name === name)
    if (found === undefined) throw new Error(`no member ${name}`)
    return found
  }

  actor(name: string): MemberActor {
    const actor = this.#actors.get(name)
    if (actor === undefined) throw new Error(`${name} was never started`)
    return actor
  }

  phase(name: string): HaMemberPhase {
    return haMemberPhase(this.actor(name).getSnapshot())
  }

  reason(name: string): string {
    return this.actor(name).getSnapshot().context.reason
  }

  /** Entries of the log that match `pattern`, without the time. */
  entries(pattern: RegExp): string[] {
    return this.log.filter((line) => pattern.test(line))
  }

  async start(...names: string[]): Promise<void> {
    for (const name of names) {
      this.#silent.delete(name)
      const existing = this.#actors.get(name)
      if (existing !== undefined) existing.send({ type: "START" })
      else this.#create(name).start()
    }
    await this.settle()
  }

  async kill(name: string): Promise<void> {
    this.#silent.add(name)
    this.actor(name).send({ type: "KILL" })
    await this.settle()
  }

  async stop(name: string): Promise<void> {
    this.actor(name).send({ type: "STOP" })
    await this.settle()
  }

  async freeze(name: string): Promise<void> {
    this.#silent.add(name)
    this.actor(name).send({ type: "FREEZE" })
    await this.settle()
  }

  async thaw(name: string): Promise<void> {
    this.#silent.delete(name)
    this.actor(name).send({ type: "THAW" })
    await this.settle()
  }

  partition(a: string, b: string): void {
    this.#cut.add([a, b].sort().join("|"))
  }

  heal(a: string, b: string): void {
    this.#cut.delete([a, b].sort().join("|"))
  }

  /** Lets microtasks drain without moving the clock. */
  async settle(): Promise<void> {
    await drain()
    this.#count()
  }

  /** Moves the clock `ms` forward, 1 ms at a time. */
  async run(ms: number): Promise<void> {
    for (let i = 0; i < ms; i++) {
      this.clock.advance(1)
      await this.settle()
    }
  }

  /** Runs until `time` (ms since the start). */
  async until(time: number): Promise<void> {
    await this.run(time - this.clock.now())
  }

  #count(): void {
    let primaries = 0
    for (const name of this.#actors.keys()) if (this.phase(name) === "primary") primaries++
    this.maxPrimaries = Math.max(this.maxPrimaries, primaries)
  }

  #record(name: string, what: string): void {
    this.log.push(`${this.clock.now()} ${name} ${what}`)
  }

  #nameOf(serial: string | null): string {
    return this.#members.find((m) => m.serial === serial)?.name ?? `stranger ${serial}`
  }

  #up(name: string): boolean {
    const actor = this.#actors.get(name)
    if (actor === undefined) return false
    const phase = haMemberPhase(actor.getSnapshot())
    return phase !== "stopped" && phase !== "frozen"
  }

  #reachable(a: string, b: string): boolean {
    return this.#up(a) && this.#up(b) && !this.#cut.has([a, b].sort().join("|"))
  }

  #listening(name: string): boolean {
    const actor = this.#actors.get(name)
    return actor !== undefined && haMemberPhase(actor.getSnapshot()) === "primary"
  }

  /** Delivers an event to a member once the current transitions have settled. */
  #later(name: string, event: Parameters<MemberActor["send"]>[0]): void {
    queueMicrotask(() => this.actor(name).send(event))
  }

  #create(name: string): MemberActor {
    const me = this.member(name)
    const machine = haMemberMachine.provide({
      guards: { ownTimerLate: () => this.stalled.has(name) },
      actors: {
        probePeers: fromPromise<string | null, HaProbeInput>(async ({ input }) => {
          await Promise.resolve()
          return input.peers.find((peer) => this.#reachable(name, peer.name) && this.#listening(peer.name))?.serial ?? null
        }),
        connectToPrimary: fromPromise<void, HaConnectInput>(async ({ input }) => {
          await Promise.resolve()
          if (!this.#reachable(name, input.primary.name) || !this.#listening(input.primary.name)) {
            throw new Error(`connection refused by ${input.primary.address}`)
          }
          this.#links.set(me.serial, input.primary.serial)
        })
      },
      actions: {
        becomePrimary: () => this.#record(name, "becomePrimary"),
        stepDown: () => {
          this.#record(name, "stepDown")
          const goodbye = !this.#silent.has(name)
          for (const [secondary, primary] of [...this.#links]) {
            if (primary !== me.serial) continue
            this.#links.delete(secondary)
            const to = this.#nameOf(secondary)
            if (goodbye && this.#reachable(name, to)) this.#later(to, { type: "PRIMARY_GOODBYE", from: me.serial, reason: `${name} stepped down` })
          }
        },
        sendHeartbeats: () => {
          for (const [secondary, primary] of this.#links) {
            const to = this.#nameOf(secondary)
            if (primary === me.serial && this.#reachable(name, to)) this.#later(to, { type: "HEARTBEAT_RECEIVED", from: me.serial })
          }
        },
        probeForOtherPrimary: () =>
          queueMicrotask(() => {
            for (const other of this.#members) {
              if (other.name !== name && this.#reachable(name, other.name) && this.#listening(other.name)) {
                this.#later(name, { type: "OTHER_PRIMARY", serial: other.serial, vip: "none" })
              }
            }
          }),
        answerHeartbeat: () => undefined,
        requestHandover: ({ context }) => {
          const to = this.#nameOf(context.currentPrimary)
          this.#record(name, `requestHandover to ${to}`)
          if (this.#reachable(name, to)) this.#later(to, { type: "HANDOVER_REQUESTED", from: me.serial })
        },
        grantHandover: ({ context }) => {
          const to = this.#nameOf(context.currentPrimary)
          this.#record(name, `grantHandover to ${to}`)
          if (this.#reachable(name, to)) this.#later(to, { type: "HANDOVER_GRANTED", from: me.serial })
        },
        leavePrimary: () => void this.#links.delete(me.serial)
      }
    })
    const actor = createActor(machine, {
      input: { self: me.serial, members: this.#members, hbIntervalMs: HB_INTERVAL_MS, hbLostThreshold: HB_LOST_THRESHOLD },
      clock: this.clock
    })
    actor.on("*", (event) => {
      switch (event.type) {
        case "role-changed":
          return this.#record(name, `${event.role}: ${event.reason}`)
        case "split-brain":
          return this.#record(name, `split-brain ${event.primaries.map((s) => this.#nameOf(s)).join(",")}: ${event.reason}`)
        case "split-brain-healed":
          return this.#record(name, `split-brain-healed ${this.#nameOf(event.stepsDown)}→${this.#nameOf(event.stays)}: ${event.reason}`)
        case "heartbeat-missed":
          return this.#record(name, `heartbeat-missed ${this.#nameOf(event.from)} ${event.missed}`)
        case "heartbeat-resumed":
          return this.#record(name, `heartbeat-resumed ${this.#nameOf(event.from)} ${event.missed}`)
      }
    })
    actor.subscribe((snapshot) => {
      if (this.autoSync && haMemberPhase(snapshot) === "syncing") this.#later(name, { type: "SYNCED" })
    })
    this.#actors.set(name, actor)
    return actor
  }
}

// ---------------------------------------------------------------------------------------------
// Boot
// ---------------------------------------------------------------------------------------------

describe("boot election", () => {
  it("two members: the higher priority becomes primary, the other joins it", async () => {
    const c = new Cluster([faz("a", 120), faz("b", 100)])
    await c.start("faz-b", "faz-a")
    await c.run(2000)
    expect([c.phase("faz-a"), c.phase("faz-b")]).toEqual(["primary", "inSync"])
    expect(c.entries(/primary|secondary/)).toEqual([
      "0 faz-a primary: faz-a became primary: no primary answered at start",
      expect.stringMatching(/^(0|1000) faz-b secondary: faz-b became secondary: faz-a is primary$/)
    ])
    await c.run(20_000)
    expect(c.entries(/primary|secondary|missed/)).toHaveLength(2)
    expect(c.maxPrimaries).toBe(1)
  })

  it("four members: preferred-role primary first, then priority, then serial", async () => {
    const c = new Cluster([faz("a", 120), faz("b", 110), faz("c", 90, "primary"), faz("d", 110)])
    await c.start("faz-a", "faz-b", "faz-c", "faz-d")
    await c.run(2000)
    expect(["a", "b", "c", "d"].map((x) => c.phase(`faz-${x}`))).toEqual(["inSync", "inSync", "primary", "inSync"])
    expect(c.reason("faz-c")).toBe("faz-c became primary: no primary answered at start")
    expect(c.reason("faz-d")).toBe("faz-d became secondary: faz-c is primary")
    expect(c.maxPrimaries).toBe(1)
  })

  it("the best member is down at boot: the others give up on it after one lost-window", async () => {
    const c = new Cluster([faz("a", 120), faz("b", 110), faz("c", 100)])
    await c.start("faz-b", "faz-c")
    await c.until(LOST_WINDOW_MS - 1)
    expect([c.phase("faz-b"), c.phase("faz-c")]).toEqual(["electing", "electing"])
    await c.run(1)
    expect(c.phase("faz-b")).toBe("primary")
    expect(c.reason("faz-b")).toBe("faz-b became primary: no primary answered at start; faz-a did not answer")
    expect(c.actor("faz-b").getSnapshot().context.dead).toEqual(["FAZ-VM000000000A"])
    await c.run(HB_INTERVAL_MS)
    expect(c.phase("faz-c")).toBe("inSync")
    expect(c.reason("faz-c")).toBe("faz-c became secondary: faz-b is primary")
  })

  it("a member that starts after the others finds the primary by probing and joins it", async () => {
    const c = new Cluster([faz("a", 100), faz("b", 120)])
    await c.start("faz-a")
    await c.run(LOST_WINDOW_MS)
    expect(c.phase("faz-a")).toBe("primary")
    await c.start("faz-b")
    await c.run(10)
    expect(c.phase("faz-b")).toBe("inSync")
    expect(c.reason("faz-b")).toBe("faz-b became secondary: faz-a is primary")
  })
})

// ---------------------------------------------------------------------------------------------
// Failover
// ---------------------------------------------------------------------------------------------

/** a (120) primary, the others secondaries in sync, at t = 5000. */
async function healthy(members: ReadonlyArray<ReturnType<typeof faz>>): Promise<Cluster> {
  const c = new Cluster(members)
  await c.start(...members.map((m) => m.name))
  await c.until(5000)
  expect(c.phase("faz-a")).toBe("primary")
  return c
}

describe("failover", () => {
  it("after exactly hb-interval × hb-lost-threshold without a heartbeat, not before", async () => {
    const c = await healthy([faz("a", 120), faz("b", 100)])
    await c.until(10_500)
    await c.kill("faz-a") // last heartbeat at 10 000
    await c.until(10_000 + LOST_WINDOW_MS - 1)
    expect(c.phase("faz-b")).toBe("inSync")
    await c.run(1)
    expect(c.phase("faz-b")).toBe("primary")
    expect(c.reason("faz-b")).toBe("faz-b became primary: 3 heartbeats missed from faz-a at hb-interval 1 s")
    // A heartbeat counts as missed once it is half an hb-interval late; the window ends at 13 000.
    expect(c.entries(/faz-b (heartbeat-missed|primary|becomePrimary)/)).toEqual([
      "11500 faz-b heartbeat-missed faz-a 1",
      "12500 faz-b heartbeat-missed faz-a 2",
      "13000 faz-b becomePrimary",
      "13000 faz-b heartbeat-missed faz-a 3",
      "13000 faz-b primary: faz-b became primary: 3 heartbeats missed from faz-a at hb-interval 1 s"
    ])
    expect(c.entries(/faz-a (none|stepDown)/)).toEqual(["10500 faz-a stepDown", "10500 faz-a none: faz-a was killed"])
  })

  it("a member stalled when its lost-window ends waits one more hb-interval: a heartbeat read meanwhile keeps the primary", async () => {
    const c = await healthy([faz("a", 120), faz("b", 100)])
    c.stalled.add("faz-b")
    c.partition("faz-a", "faz-b") // the heartbeats from 6000 on are lost; the window ends at 8000
    await c.until(8500)
    expect(c.phase("faz-b")).toBe("inSync")
    // What the stalled process had not read yet: a heartbeat from the primary.
    c.heal("faz-a", "faz-b")
    c.actor("faz-b").send({ type: "HEARTBEAT_RECEIVED", from: c.member("faz-a").serial })
    c.stalled.delete("faz-b")
    await c.until(20_000)
    expect(c.phase("faz-b")).toBe("inSync")
    // Late timers count no miss either.
    expect(c.entries(/^\d+ faz-b/)).toEqual(["0 faz-b secondary: faz-b became secondary: faz-a is primary"])
  })

  it("a stalled member whose primary stays silent for that hb-interval too elects itself, for the same reason", async () => {
    const c = await healthy([faz("a", 120), faz("b", 100)])
    c.stalled.add("faz-b")
    await c.until(5500)
    await c.kill("faz-a") // last heartbeat at 5000: the window ends at 8000, the extra hb-interval at 9000
    await c.until(9000 - 1)
    expect(c.phase("faz-b")).toBe("inSync")
    await c.run(1)
    expect(c.phase("faz-b")).toBe("primary")
    expect(c.entries(/faz-b (heartbeat-missed|primary)/)).toEqual([
      "9000 faz-b heartbeat-missed faz-a 3",
      "9000 faz-b primary: faz-b became primary: 3 heartbeats missed from faz-a at hb-interval 1 s"
    ])
  })

  it("a heartbeat resets the count: the miss and the heartbeat heard again are reported, and nothing else changes", async () => {
    const c = await healthy([faz("a", 120), faz("b", 100)])
    c.partition("faz-a", "faz-b") // the heartbeat of 6000 is lost
    await c.until(6700)
    c.heal("faz-a", "faz-b")
    await c.until(20_000)
    expect(c.phase("faz-b")).toBe("inSync")
    expect(c.entries(/^\d+ faz-b/)).toEqual([
      "0 faz-b secondary: faz-b became secondary: faz-a is primary",
      "6500 faz-b heartbeat-missed faz-a 1",
      "7000 faz-b heartbeat-resumed faz-a 1"
    ])
  })

  it("a heartbeat after two misses reports both of them, once; heartbeats on time report nothing", async () => {
    const c = await healthy([faz("a", 120), faz("b", 100)])
    await c.until(5500)
    expect(c.entries(/heartbeat-(missed|resumed)/)).toEqual([])
    c.partition("faz-a", "faz-b") // the heartbeats of 6000 and 7000 are lost: misses at 6500 and 7500
    await c.until(7700)
    c.heal("faz-a", "faz-b")
    // A late heartbeat (a degraded link's hb-delay) comes through before the lost-window ends at 8000.
    c.actor("faz-b").send({ type: "HEARTBEAT_RECEIVED", from: c.member("faz-a").serial })
    await c.until(20_000)
    expect(c.phase("faz-b")).toBe("inSync")
    expect(c.entries(/heartbeat-(missed|resumed)/)).toEqual([
      "6500 faz-b heartbeat-missed faz-a 1",
      "7500 faz-b heartbeat-missed faz-a 2",
      "7700 faz-b heartbeat-resumed faz-a 2"
    ])
  })

  it("a dead next candidate is skipped after one lost-window", async () => {
    const c = await healthy([faz("a", 120), faz("b", 110), faz("c", 100)])
    await c.until(10_500)
    await c.kill("faz-a")
    await c.kill("faz-b")
    await c.until(13_000)
    expect(c.phase("faz-c")).toBe("electing")
    expect(c.actor("faz-c").getSnapshot().context.candidate).toBe("FAZ-VM000000000B")
    await c.until(13_000 + LOST_WINDOW_MS - 1)
    expect(c.phase("faz-c")).toBe("electing")
    await c.run(1)
    expect(c.phase("faz-c")).toBe("primary")
    expect(c.reason("faz-c")).toBe("faz-c became primary: 3 heartbeats missed from faz-a at hb-interval 1 s; faz-b did not answer")
    expect(c.actor("faz-c").getSnapshot().context.dead).toEqual(["FAZ-VM000000000A", "FAZ-VM000000000B"])
  })

  it("the next candidate takes over and the other secondaries follow it", async () => {
    const c = await healthy([faz("a", 120), faz("b", 110), faz("c", 100)])
    await c.until(10_500)
    await c.kill("faz-a")
    await c.until(13_000)
    expect(c.phase("faz-b")).toBe("primary")
    await c.run(HB_INTERVAL_MS)
    expect(c.phase("faz-c")).toBe("inSync")
    expect(c.reason("faz-c")).toBe("faz-c became secondary: faz-b is primary")
    expect(c.maxPrimaries).toBe(1)
  })

  it("a primary that stops says goodbye: its secondary takes over at once", async () => {
    const c = await healthy([faz("a", 120), faz("b", 100)])
    await c.stop("faz-a")
    expect(c.phase("faz-b")).toBe("primary")
    expect(c.reason("faz-b")).toBe("faz-b became primary: faz-a said goodbye (faz-a stepped down)")
    expect(c.reason("faz-a")).toBe("faz-a stopped")
  })
})

// ---------------------------------------------------------------------------------------------
// Returning members
// ---------------------------------------------------------------------------------------------

describe("returning members", () => {
  it("the old primary comes back as secondary: no preemption", async () => {
    const c = await healthy([faz("a", 120), faz("b", 100)])
    await c.kill("faz-a")
    await c.until(9000)
    expect(c.phase("faz-b")).toBe("primary")
    await c.start("faz-a")
    await c.until(40_000)
    expect([c.phase("faz-a"), c.phase("faz-b")]).toEqual(["inSync", "primary"])
    expect(c.reason("faz-a")).toBe("faz-a became secondary: faz-b is primary")
    expect(c.entries(/requestHandover/)).toEqual([])
    expect(c.maxPrimaries).toBe(1)
  })

  it("a preferred-role primary takes over once in sync, by a planned handover", async () => {
    const c = await healthy([faz("a", 100, "primary"), faz("b", 120), faz("c", 110)])
    await c.kill("faz-a")
    await c.until(9000)
    expect(c.phase("faz-b")).toBe("primary")
    c.autoSync = false
    await c.start("faz-a")
    await c.until(20_000)
    expect(c.phase("faz-a")).toBe("syncing")
    expect(c.entries(/Handover/)).toEqual([])
    c.log.length = 0
    c.actor("faz-a").send({ type: "SYNCED" })
    c.autoSync = true
    await c.settle()
    expect([c.phase("faz-a"), c.phase("faz-b")]).toEqual(["primary", "inSync"])
    expect(c.entries(/Handover|primary|secondary|stepDown|becomePrimary/)).toEqual([
      "20000 faz-a requestHandover to faz-b",
      "20000 faz-b grantHandover to faz-a",
      "20000 faz-b stepDown",
      "20000 faz-b secondary: faz-b became secondary: planned handover to faz-a (faz-a has preferred-role primary)",
      "20000 faz-a becomePrimary",
      "20000 faz-a primary: faz-a became primary: planned handover from faz-b (faz-a has preferred-role primary)",
      "20000 faz-c secondary: faz-c became secondary: faz-a is primary"
    ])
    await c.run(HB_INTERVAL_MS)
    expect(["a", "b", "c"].map((x) => c.phase(`faz-${x}`))).toEqual(["primary", "inSync", "inSync"])
    expect(c.maxPrimaries).toBe(1)
  })

  it("a member whose catch-up has not finished does not take over: it waits for a primary that has the logs", async () => {
    const c = await healthy([faz("a", 120), faz("b", 100)])
    await c.kill("faz-b")
    c.autoSync = false
    await c.start("faz-b")
    await c.until(6000)
    expect(c.phase("faz-b")).toBe("syncing")
    await c.kill("faz-a")
    await c.until(30_000)
    // No primary at all rather than one that lacks acknowledged logs; faz-b keeps trying faz-a.
    expect(c.phase("faz-b")).toBe("electing")
    expect(c.entries(/faz-b (primary|becomePrimary)/)).toEqual([])
    expect(c.reason("faz-b")).toBe("faz-b is trying faz-a as primary; it may not become primary itself before a catch-up is complete")
    c.autoSync = true
    await c.start("faz-a")
    await c.run(LOST_WINDOW_MS + HB_INTERVAL_MS)
    expect([c.phase("faz-a"), c.phase("faz-b")]).toEqual(["primary", "inSync"])
    // Caught up now: it is eligible again.
    await c.kill("faz-a")
    await c.run(LOST_WINDOW_MS + HB_INTERVAL_MS)
    expect(c.phase("faz-b")).toBe("primary")
  })

  it("a primary refuses a handover to a member that does not rank above it", async () => {
    const c = await healthy([faz("a", 120), faz("b", 100)])
    c.actor("faz-a").send({ type: "HANDOVER_REQUESTED", from: "FAZ-VM000000000B" })
    await c.settle()
    expect(c.phase("faz-a")).toBe("primary")
  })
})

// ---------------------------------------------------------------------------------------------
// Split brain
// ---------------------------------------------------------------------------------------------

describe("split brain", () => {
  it("a partition makes two primaries; when it heals the worse-ranked one steps down", async () => {
    const c = await healthy([faz("a", 120), faz("b", 100)])
    c.partition("faz-a", "faz-b")
    await c.until(8000)
    expect([c.phase("faz-a"), c.phase("faz-b")]).toEqual(["primary", "primary"])
    expect(c.reason("faz-b")).toBe("faz-b became primary: 3 heartbeats missed from faz-a at hb-interval 1 s")
    await c.until(30_500)
    // While the partition lasts the probes fail: both stay primary, nobody reports anything.
    expect([c.phase("faz-a"), c.phase("faz-b")]).toEqual(["primary", "primary"])
    expect(c.entries(/split-brain/)).toEqual([])
    c.heal("faz-a", "faz-b")
    await c.until(31_000)
    expect(c.entries(/split-brain/).sort()).toEqual([
      "31000 faz-a split-brain faz-a,faz-b: split brain: faz-a and faz-b are both primary",
      "31000 faz-b split-brain-healed faz-b→faz-a: split brain healed: faz-b steps down, faz-a stays primary"
    ])
    expect(c.reason("faz-b")).toBe("faz-b became secondary: split brain healed, faz-a stays primary")
    await c.run(HB_INTERVAL_MS)
    expect([c.phase("faz-a"), c.phase("faz-b")]).toEqual(["primary", "inSync"])
    expect(c.actor("faz-b").getSnapshot().context.history.map((h) => h.role)).toEqual(["secondary", "primary", "secondary"])
  })

  it("the secondaries of the worse-ranked primary follow the better one after the heal", async () => {
    const c = await healthy([faz("a", 120), faz("b", 110), faz("c", 100)])
    c.partition("faz-a", "faz-b")
    c.partition("faz-a", "faz-c")
    await c.until(15_000)
    expect(["a", "b", "c"].map((x) => c.phase(`faz-${x}`))).toEqual(["primary", "primary", "inSync"])
    c.heal("faz-a", "faz-b")
    c.heal("faz-a", "faz-c")
    await c.until(20_000)
    expect(["a", "b", "c"].map((x) => c.phase(`faz-${x}`))).toEqual(["primary", "inSync", "inSync"])
    expect(c.reason("faz-c")).toBe("faz-c became secondary: faz-a is primary")
  })
})

// ---------------------------------------------------------------------------------------------
// Freeze, stop, history
// ---------------------------------------------------------------------------------------------

describe("freeze and thaw", () => {
  it("a frozen primary is silent; the secondary takes over; thawed, it rejoins as secondary", async () => {
    const c = await healthy([faz("a", 120), faz("b", 100)])
    await c.until(10_500)
    await c.freeze("faz-a")
    expect(c.reason("faz-a")).toBe("faz-a is frozen: alive but silent until THAW")
    c.log.length = 0
    await c.until(13_000)
    expect(c.phase("faz-b")).toBe("primary")
    await c.until(30_000)
    expect(c.entries(/^\d+ faz-a /)).toEqual([])
    c.actor("faz-a").send({ type: "HEARTBEAT_RECEIVED", from: "FAZ-VM000000000B" })
    expect(c.phase("faz-a")).toBe("frozen")
    await c.thaw("faz-a")
    expect([c.phase("faz-a"), c.phase("faz-b")]).toEqual(["inSync", "primary"])
    expect(c.reason("faz-a")).toBe("faz-a became secondary: faz-b is primary")
  })

  it("a frozen secondary stops answering and counting; the primary carries on", async () => {
    const c = await healthy([faz("a", 120), faz("b", 100)])
    await c.freeze("faz-b")
    await c.until(30_000)
    expect([c.phase("faz-a"), c.phase("faz-b")]).toEqual(["primary", "frozen"])
    expect(c.entries(/faz-b heartbeat-missed/)).toEqual([])
  })
})

describe("stop, start, history", () => {
  it("a stopped member ignores everything but START", async () => {
    const c = await healthy([faz("a", 120), faz("b", 100)])
    await c.stop("faz-b")
    c.log.length = 0
    c.actor("faz-b").send({ type: "FREEZE" })
    c.actor("faz-b").send({ type: "STOP" })
    c.actor("faz-b").send({ type: "HEARTBEAT_RECEIVED", from: "FAZ-VM000000000A" })
    await c.run(10_000)
    expect(c.phase("faz-b")).toBe("stopped")
    expect(c.entries(/faz-b/)).toEqual([])
  })

  it(`keeps the last ${HA_ROLE_HISTORY_LIMIT} role changes`, async () => {
    const c = new Cluster([faz("a", 120), faz("b", 100)])
    await c.start("faz-a")
    for (let i = 0; i < 30; i++) {
      await c.stop("faz-a")
      await c.start("faz-a")
    }
    const history = c.actor("faz-a").getSnapshot().context.history
    expect(history).toHaveLength(HA_ROLE_HISTORY_LIMIT)
    expect(history.at(-1)).toEqual({ role: "primary", reason: "faz-a became primary: no primary answered at start" })
    expect(history.at(-2)).toEqual({ role: "none", reason: "faz-a stopped" })
  })
})
