/**
 * One member of a FortiAnalyzer HA group (fazlab's model, docs/protocols/ha.md), as a machine.
 *
 *   starting → probing --a primary answered--> secondary (joining → syncing → inSync)
 *                 |                               |  nothing from the primary for
 *                 +--no primary----> electing <---+  hb-interval × hb-lost-threshold, or GOODBYE
 *                                      |   ^
 *                 best candidate is me |   | candidate silent for one lost-window: mark it dead
 *                                      v   |
 *                                    primary --worse-ranked in a split brain / planned handover--> secondary
 *   FREEZE (any state) → frozen --THAW--> starting;  STOP / KILL (any state) → stopped --START--> starting
 *
 * The secondary is two parallel regions: `link` (joining → syncing → inSync) and `watch`, the
 * watchdog: nothing from the primary for LOST_WINDOW (hb-interval × hb-lost-threshold) loses it;
 * every HEARTBEAT_RECEIVED restarts the window. A frozen member runs no timers and ignores every
 * event but THAW, STOP and KILL; thawed, it starts over like a returning member.
 *
 * Rules (docs/protocols/ha.md): the ranking is static (`rank` in ha-election.ts); there is no
 * preemption: a returning member probes first and joins a primary it finds; a member with
 * preferred-role primary asks the primary for a planned handover once it is in sync; of two
 * primaries that find each other (split brain) the one without the virtual IP steps down, or
 * without a VIP the worse-ranked one. A member
 * whose catch-up from a primary has not finished may not become primary: when its primary is
 * lost it walks the other members only, again and again, until one of them takes it
 * (`caughtUp`; a START or THAW clears it, as the member then knows of no primary).
 *
 * Pure: the device supplies, with `.provide()`, the actors `probePeers` (try each peer's TCP/5199,
 * resolve with the serial of a primary or null) and `connectToPrimary` (connect to the given
 * member's TCP/5199 and complete JOIN / WELCOME; the device keeps the link), and the actions
 * `becomePrimary` (bind TCP/5199 and the VIP), `stepDown` (say GOODBYE to the secondaries, unbind),
 * `sendHeartbeats`, `probeForOtherPrimary` (probe the peers' TCP/5199 in the background and send
 * OTHER_PRIMARY for a primary found), `answerHeartbeat`, `requestHandover`, `grantHandover` and
 * `leavePrimary` (drop the link to the primary), and the guard `ownTimerLate` (the timer that fires
 * now fired over an hb-interval late: the process stalled, so the watchdog waits one more
 * hb-interval before it decides). What arrives on the link comes back as events.
 * Observable changes are emitted (`actor.on(...)`, `HaMemberEmitted`) for the lab bus: a
 * `role-changed` for every role decision, with its sentence; `heartbeat-missed` for each miss and
 * `heartbeat-resumed` when the primary is heard again after misses. Context stays serializable.
 */
import { assign, emit, enqueueActions, fromPromise, setup, type SnapshotFrom } from "xstate"
import type { HaRole } from "../protocols/ha/frames.ts"
import {
  compareMembers,
  type HaMember,
  nextCandidate,
  rank,
  type RoleChange,
  roleChangeReason,
  splitBrainHealedReason,
  splitBrainReason,
  type WalkCause
} from "./ha-election.ts"

/** How many role changes the context keeps. */
export const HA_ROLE_HISTORY_LIMIT = 50

export interface HaMemberInput {
  /** This member's serial; it must be one of `members`. */
  readonly self: string
  /** Every configured member of the group, this one included. */
  readonly members: ReadonlyArray<HaMember>
  /** `hb-interval` (FortiOS 1-20 s; fazlab also accepts sub-second values for fast CI). */
  readonly hbIntervalMs: number
  /** `hb-lost-threshold`: heartbeats missed before the primary is declared lost (default 3). */
  readonly hbLostThreshold: number
}

/** `none` while starting, stopped, or before the first election. */
export type HaMemberRole = HaRole | "none"

export interface HaRoleHistoryEntry {
  readonly role: HaMemberRole
  readonly reason: string
}

export interface HaMemberContext {
  readonly self: string
  /** The group, best-ranked first. */
  readonly members: ReadonlyArray<HaMember>
  readonly hbIntervalMs: number
  readonly hbLostThreshold: number
  /** Serial of the primary this member follows (itself when primary); null while it has none. */
  readonly currentPrimary: string | null
  /** Serial of the candidate the walk is trying. */
  readonly candidate: string | null
  /** Serials the current walk gave up on (the lost primary, silent candidates). */
  readonly dead: ReadonlyArray<string>
  /** Why the current (or last) walk began. */
  readonly walk: WalkCause
  /** Heartbeat intervals in a row without a HEARTBEAT from the primary. */
  readonly missed: number
  /** False from WELCOME until the catch-up from that primary is complete (SYNCED): not eligible as primary meanwhile. */
  readonly caughtUp: boolean
  readonly role: HaMemberRole
  /** Why the member is in its current state, as a sentence. */
  readonly reason: string
  /** Role changes, oldest first, at most `HA_ROLE_HISTORY_LIMIT`. */
  readonly history: ReadonlyArray<HaRoleHistoryEntry>
}

export type HaMemberEvent =
  | { readonly type: "START" }
  /** Graceful stop: a primary steps down (GOODBYE to its secondaries). */
  | { readonly type: "STOP" }
  /** The process dies; the device drops its sockets without a word. */
  | { readonly type: "KILL" }
  /** Alive but silent: no heartbeats, no answers, until THAW. */
  | { readonly type: "FREEZE" }
  | { readonly type: "THAW" }
  /** A HEARTBEAT frame arrived from `from` (counted only from the current primary). */
  | { readonly type: "HEARTBEAT_RECEIVED"; readonly from: string }
  /** The catch-up (log and config sync) with the primary is complete. */
  | { readonly type: "SYNCED" }
  /** The primary closed the link with GOODBYE. */
  | { readonly type: "PRIMARY_GOODBYE"; readonly from: string; readonly reason: string }
  /**
   * A probe found `serial` acting as primary (listening on TCP/5199) while this member is primary;
   * `vip` says which of the two holds the group's virtual IP ("none": neither, or no VIP).
   */
  | { readonly type: "OTHER_PRIMARY"; readonly serial: string; readonly vip: "mine" | "theirs" | "none" }
  /** A secondary asked this primary for a planned handover (HANDOVER frame). */
  | { readonly type: "HANDOVER_REQUESTED"; readonly from: string }
  /** The primary answered this member's HANDOVER: take over. */
  | { readonly type: "HANDOVER_GRANTED"; readonly from: string }

/** What the machine tells the lab (forwarded to the bus by the device). Serials, names in `reason`. */
export type HaMemberEmitted =
  | { readonly type: "role-changed"; readonly serial: string; readonly role: HaMemberRole; readonly reason: string }
  | { readonly type: "split-brain"; readonly primaries: ReadonlyArray<string>; readonly reason: string }
  | { readonly type: "split-brain-healed"; readonly stepsDown: string; readonly stays: string; readonly reason: string }
  | { readonly type: "heartbeat-missed"; readonly from: string; readonly missed: number }
  /** A heartbeat of the primary came through after `missed` missed ones (never after none). */
  | { readonly type: "heartbeat-resumed"; readonly from: string; readonly missed: number }

/** What `probePeers` is given: resolve with the serial of a primary found, or null. */
export interface HaProbeInput {
  readonly self: string
  readonly peers: ReadonlyArray<HaMember>
}

/** What `connectToPrimary` is given: connect to this member's TCP/5199, JOIN, resolve on WELCOME. */
export interface HaConnectInput {
  readonly primary: HaMember
}

/** The states a device reports: the secondary's step rather than the grouping states. */
export type HaMemberPhase = "starting" | "probing" | "electing" | "joining" | "syncing" | "inSync" | "primary" | "frozen" | "stopped"

const member = (context: HaMemberContext, serial: string | null): HaMember | undefined =>
  context.members.find((m) => m.serial === serial)

/** The lab name of a serial (the serial itself for a stranger). */
const nameOf = (context: HaMemberContext, serial: string | null): string => member(context, serial)?.name ?? serial ?? "nobody"

/** Does `serial` (a configured member other than this one) rank better than this member? */
function ranksAboveSelf(context: HaMemberContext, serial: string): boolean {
  const other = member(context, serial)
  const self = member(context, context.self)
  return other !== undefined && self !== undefined && serial !== context.self && compareMembers(other, self) < 0
}

const roleOf = (change: RoleChange): HaMemberRole => {
  switch (change.kind) {
    case "elected":
    case "handover-taken":
      return "primary"
    case "joined":
    case "handover-given":
    case "split-brain-healed":
      return "secondary"
    case "stopped":
    case "killed":
      return "none"
  }
}

/**
 * The candidate to try next: the best one not dead, this member left out while it has not caught
 * up. When that leaves nobody, the walk starts over (the dead set empties).
 */
function pickCandidate(context: HaMemberContext): { readonly candidate: string | null; readonly dead: ReadonlyArray<string> } {
  const excluded = context.caughtUp ? context.dead : [...context.dead, context.self]
  const next = nextCandidate(context.members, new Set(excluded))
  if (next !== null || context.caughtUp) return { candidate: next?.serial ?? null, dead: context.dead }
  return { candidate: nextCandidate(context.members, new Set([context.self]))?.serial ?? null, dead: [] }
}

/** The walk's skipped candidates: the dead ones after the lost primary that began the walk. */
function skippedNames(context: HaMemberContext): string[] {
  const skipped = context.walk.kind === "start" ? context.dead : context.dead.slice(1)
  return skipped.map((serial) => nameOf(context, serial))
}

/** The configured member with this serial; the guards only ever let configured serials in. */
function configured(context: HaMemberContext, serial: string | null): HaMember {
  const found = member(context, serial)
  if (found === undefined) throw new Error(`bug: ${serial} is not a member of the HA group`)
  return found
}

const joined = ({ context }: { readonly context: HaMemberContext }): RoleChange => ({
  kind: "joined",
  member: nameOf(context, context.self),
  primary: nameOf(context, context.currentPrimary)
})

/** The actions of a role (re)decision: record it, then announce it. */
const changeRole = (change: (args: { readonly context: HaMemberContext }) => RoleChange) => [
  { type: "assignRole" as const, params: change },
  "announceRole" as const
]

export const haMemberMachine = setup({
  types: {
    context: {} as HaMemberContext,
    input: {} as HaMemberInput,
    events: {} as HaMemberEvent,
    emitted: {} as HaMemberEmitted
  },
  actors: {
    probePeers: fromPromise<string | null, HaProbeInput>(() => Promise.reject(new Error("the device supplies probePeers"))),
    connectToPrimary: fromPromise<void, HaConnectInput>(() => Promise.reject(new Error("the device supplies connectToPrimary")))
  },
  actions: {
    /** Bind TCP/5199 and the VIP. */
    becomePrimary: () => undefined,
    /** Say GOODBYE to the connected secondaries, close their links, unbind TCP/5199 and the VIP. */
    stepDown: () => undefined,
    /** HEARTBEAT (with the roster) to every connected secondary. */
    sendHeartbeats: () => undefined,
    /** Probe the other members' TCP/5199; send OTHER_PRIMARY for each one found acting as primary. */
    probeForOtherPrimary: () => undefined,
    /** HEARTBEAT back to the primary. */
    answerHeartbeat: () => undefined,
    /** HANDOVER to `context.currentPrimary`. */
    requestHandover: () => undefined,
    /** HANDOVER (the grant) to `context.currentPrimary`, the requester, before `stepDown` runs. */
    grantHandover: () => undefined,
    /** Drop the link to the primary (or the half-made one). */
    leavePrimary: () => undefined,
    /** Records a role (re)decision: role, reason and history. `announceRole` follows it. */
    assignRole: assign(({ context }, change: RoleChange) => {
      const role = roleOf(change)
      const reason = roleChangeReason(change)
      return { role, reason, history: [...context.history, { role, reason }].slice(-HA_ROLE_HISTORY_LIMIT) }
    }),
    announceRole: emit(({ context }) => ({ type: "role-changed" as const, serial: context.self, role: context.role, reason: context.reason })),
    countMiss: assign({ missed: ({ context }) => context.missed + 1 }),
    /** The lost-window ended: all hb-lost-threshold heartbeats are missed (`announceMiss` follows). */
    missAll: assign({ missed: ({ context }) => context.hbLostThreshold }),
    /** The primary is lost: the walk starts with it dead. */
    walkFromLostPrimary: assign({
      walk: ({ context }) => ({
        kind: "heartbeats-missed",
        from: nameOf(context, context.currentPrimary),
        missed: context.missed,
        hbIntervalMs: context.hbIntervalMs
      }),
      dead: ({ context }) => (context.currentPrimary === null ? [] : [context.currentPrimary]),
      currentPrimary: null
    }),
    announceMiss: emit(({ context }) => ({ type: "heartbeat-missed" as const, from: context.currentPrimary ?? "", missed: context.missed })),
    /** The primary is heard again after misses (only then: the HEARTBEAT_RECEIVED transitions run it before `missed` resets). */
    announceResumed: emit(({ context }) => ({ type: "heartbeat-resumed" as const, from: context.currentPrimary ?? "", missed: context.missed }))
  },
  guards: {
    selfIsNext: ({ context }) =>
      context.caughtUp && (nextCandidate(context.members, new Set(context.dead))?.serial ?? context.self) === context.self,
    beforeLastMiss: ({ context }) => context.missed + 1 < context.hbLostThreshold,
    /** The device's: did the timer that fires now fire late, because this member's process was busy? */
    ownTimerLate: () => false,
    fromPrimary: ({ context, event }) => "from" in event && event.from === context.currentPrimary,
    wantsHandover: ({ context }) =>
      member(context, context.self)?.preferredRole === "primary" && context.currentPrimary !== null && !ranksAboveSelf(context, context.currentPrimary)
  },
  delays: {
    HB_INTERVAL: ({ context }) => context.hbIntervalMs,
    /** When the next heartbeat counts as missed: half an hb-interval after it was due. */
    HEARTBEAT_LATE: ({ context }) => (context.missed === 0 ? context.hbIntervalMs * 1.5 : context.hbIntervalMs),
    LOST_WINDOW: ({ context }) => context.hbIntervalMs * context.hbLostThreshold,
    /** After a stall, one more heartbeat period for the primary's heartbeats to be read. */
    CONFIRM: ({ context }) => context.hbIntervalMs
  }
}).createMachine({
  id: "ha-member",
  context: ({ input }) => ({
    self: input.self,
    members: rank(input.members),
    hbIntervalMs: input.hbIntervalMs,
    hbLostThreshold: input.hbLostThreshold,
    currentPrimary: null,
    candidate: null,
    dead: [],
    walk: { kind: "start" },
    missed: 0,
    caughtUp: true,
    role: "none",
    reason: "starting",
    history: []
  }),
  initial: "starting",
  on: {
    STOP: { target: ".stopped", actions: changeRole(({ context }) => ({ kind: "stopped", member: nameOf(context, context.self) })) },
    KILL: { target: ".stopped", actions: changeRole(({ context }) => ({ kind: "killed", member: nameOf(context, context.self) })) },
    FREEZE: { target: ".frozen" }
  },
  states: {
    starting: {
      entry: assign({ currentPrimary: null, candidate: null, dead: [], walk: { kind: "start" }, missed: 0, caughtUp: true }),
      always: { target: "probing" }
    },
    probing: {
      entry: assign({ reason: ({ context }) => `${nameOf(context, context.self)} is looking for a primary on TCP/5199` }),
      invoke: {
        src: "probePeers",
        input: ({ context }) => ({ self: context.self, peers: context.members.filter((m) => m.serial !== context.self) }),
        onDone: [
          {
            guard: ({ context, event }) => event.output !== null && event.output !== context.self && member(context, event.output) !== undefined,
            target: "secondary",
            actions: [assign({ currentPrimary: ({ event }) => event.output }), ...changeRole(joined)]
          },
          { target: "electing" }
        ],
        onError: { target: "electing" }
      }
    },
    electing: {
      initial: "deciding",
      states: {
        deciding: {
          always: [
            {
              guard: "selfIsNext",
              target: "#ha-member.primary",
              actions: changeRole(({ context }) => ({ kind: "elected", member: nameOf(context, context.self), cause: context.walk, skipped: skippedNames(context) }))
            },
            {
              target: "trying",
              actions: [
                assign(({ context }) => pickCandidate(context)),
                assign({
                  reason: ({ context }) =>
                    context.caughtUp
                      ? `${nameOf(context, context.self)} is trying ${nameOf(context, context.candidate)} as primary`
                      : `${nameOf(context, context.self)} is trying ${nameOf(context, context.candidate)} as primary; ` +
                        `it may not become primary itself before a catch-up is complete`
                })
              ]
            }
          ]
        },
        /** Connect to the candidate until one lost-window has passed, then give up on it. */
        trying: {
          after: { LOST_WINDOW: { target: "deciding", actions: assign({ dead: ({ context }) => (context.candidate === null ? context.dead : [...context.dead, context.candidate]) }) } },
          initial: "connecting",
          states: {
            connecting: {
              invoke: {
                src: "connectToPrimary",
                input: ({ context }) => ({ primary: configured(context, context.candidate) }),
                onDone: {
                  target: "#ha-member.secondary.link.syncing",
                  actions: [assign({ currentPrimary: ({ context }) => context.candidate }), ...changeRole(joined)]
                },
                onError: { target: "waiting" }
              }
            },
            waiting: { after: { HB_INTERVAL: "connecting" } }
          }
        }
      }
    },
    secondary: {
      type: "parallel",
      entry: assign({ missed: 0, candidate: null }),
      exit: "leavePrimary",
      on: {
        PRIMARY_GOODBYE: {
          guard: "fromPrimary",
          target: "electing",
          actions: assign({
            walk: ({ context, event }) => ({ kind: "goodbye", from: nameOf(context, event.from), reason: event.reason }),
            dead: ({ event }) => [event.from],
            currentPrimary: null
          })
        },
        HANDOVER_GRANTED: {
          guard: "fromPrimary",
          target: "primary",
          actions: changeRole(({ context }) => ({ kind: "handover-taken", member: nameOf(context, context.self), from: nameOf(context, context.currentPrimary) }))
        }
      },
      states: {
        /** The link to the primary: JOIN / WELCOME, catching up, then in sync. */
        link: {
          initial: "joining",
          states: {
            joining: {
              invoke: {
                src: "connectToPrimary",
                input: ({ context }) => ({ primary: configured(context, context.currentPrimary) }),
                onDone: { target: "syncing" },
                onError: { target: "rejoining" }
              }
            },
            /** The primary did not take the JOIN yet: try again each hb-interval (the watchdog bounds it). */
            rejoining: { after: { HB_INTERVAL: "joining" } },
            /** Catching up: not eligible as primary until SYNCED. */
            syncing: { entry: assign({ caughtUp: false }), on: { SYNCED: { target: "inSync", actions: assign({ caughtUp: true }) } } },
            inSync: {
              entry: enqueueActions(({ check, enqueue }) => {
                if (check("wantsHandover")) enqueue("requestHandover")
              })
            }
          }
        },
        /**
         * The watchdog: nothing from the primary for hb-interval × hb-lost-threshold loses it. On the
         * way, a heartbeat counts as missed once it is half an hb-interval late (a heartbeat on time
         * races the timer), and each miss is reported. A timer of this member's that fired late
         * (`ownTimerLate`: the process was stalled) counts no miss, and a late lost-window waits
         * one more hb-interval (CONFIRM) for the heartbeats that may be waiting unread.
         */
        watch: {
          initial: "listening",
          states: {
            listening: {
              on: {
                HEARTBEAT_RECEIVED: {
                  guard: "fromPrimary",
                  target: "listening",
                  reenter: true,
                  actions: [
                    // Heard again after misses (only then, so the stream stays quiet): say so, then reset.
                    enqueueActions(({ context, enqueue }) => {
                      if (context.missed > 0) enqueue("announceResumed")
                    }),
                    assign({ missed: 0 }),
                    "answerHeartbeat"
                  ]
                }
              },
              after: {
                LOST_WINDOW: [
                  // This member's own timer fired late: its process was busy, and heartbeats that came
                  // in time may still wait unread. One more turn of the event loop before deciding.
                  { guard: "ownTimerLate", target: "confirming" },
                  { target: "#ha-member.electing", actions: ["missAll", "announceMiss", "walkFromLostPrimary"] }
                ]
              },
              initial: "counting",
              states: {
                counting: {
                  after: {
                    HEARTBEAT_LATE: [
                      // A late timer proves nothing about the primary: wait for the next one, count nothing.
                      { guard: "ownTimerLate", target: "counting", reenter: true },
                      { guard: "beforeLastMiss", target: "counting", reenter: true, actions: ["countMiss", "announceMiss"] }
                    ]
                  }
                }
              }
            },
            /** The lost-window ended while this member was stalled: a heartbeat read now keeps the primary. */
            confirming: {
              on: {
                HEARTBEAT_RECEIVED: {
                  guard: "fromPrimary",
                  target: "listening",
                  actions: [
                    // Heard again after misses (only then, so the stream stays quiet): say so, then reset.
                    enqueueActions(({ context, enqueue }) => {
                      if (context.missed > 0) enqueue("announceResumed")
                    }),
                    assign({ missed: 0 }),
                    "answerHeartbeat"
                  ]
                }
              },
              after: { CONFIRM: { target: "#ha-member.electing", actions: ["missAll", "announceMiss", "walkFromLostPrimary"] } }
            }
          }
        }
      }
    },
    primary: {
      entry: [assign({ currentPrimary: ({ context }) => context.self, candidate: null }), "becomePrimary"],
      exit: "stepDown",
      initial: "serving",
      on: {
        OTHER_PRIMARY: [
          {
            // The VIP holder stays: the senders' logs (and ACKs) went to it. Else the better rank.
            guard: ({ context, event }) =>
              member(context, event.serial) !== undefined && (event.vip === "theirs" || (event.vip === "none" && ranksAboveSelf(context, event.serial))),
            target: "secondary",
            actions: [
              emit(({ context, event }) => ({
                type: "split-brain-healed" as const,
                stepsDown: context.self,
                stays: event.serial,
                reason: splitBrainHealedReason(nameOf(context, context.self), nameOf(context, event.serial))
              })),
              assign({ currentPrimary: ({ event }) => event.serial }),
              ...changeRole(({ context }) => ({ kind: "split-brain-healed", member: nameOf(context, context.self), stays: nameOf(context, context.currentPrimary) }))
            ]
          },
          {
            guard: ({ context, event }) => event.serial !== context.self && member(context, event.serial) !== undefined,
            actions: emit(({ context, event }) => ({
              type: "split-brain" as const,
              primaries: [context.self, event.serial],
              reason: splitBrainReason([nameOf(context, context.self), nameOf(context, event.serial)])
            }))
          }
        ],
        HANDOVER_REQUESTED: {
          guard: ({ context, event }) => member(context, event.from)?.preferredRole === "primary" && ranksAboveSelf(context, event.from),
          target: ".handingOver",
          actions: assign({ currentPrimary: ({ event }) => event.from })
        }
      },
      states: {
        /** Heartbeats and a split-brain probe now and every hb-interval. */
        serving: {
          entry: ["sendHeartbeats", "probeForOtherPrimary"],
          after: { HB_INTERVAL: { target: "serving", reenter: true } }
        },
        /** The grant goes out before `stepDown` closes the links. */
        handingOver: {
          entry: "grantHandover",
          always: {
            target: "#ha-member.secondary",
            actions: changeRole(({ context }) => ({ kind: "handover-given", member: nameOf(context, context.self), to: nameOf(context, context.currentPrimary) }))
          }
        }
      }
    },
    frozen: {
      entry: assign({ reason: ({ context }) => `${nameOf(context, context.self)} is frozen: alive but silent until THAW` }),
      on: { THAW: "starting", FREEZE: {} }
    },
    stopped: {
      on: { START: "starting", STOP: {}, KILL: {}, FREEZE: {} }
    }
  }
})

export type HaMemberSnapshot = SnapshotFrom<typeof haMemberMachine>

/** The phase to report for a snapshot. */
export function haMemberPhase(snapshot: HaMemberSnapshot): HaMemberPhase {
  if (snapshot.matches({ secondary: { link: "syncing" } })) return "syncing"
  if (snapshot.matches({ secondary: { link: "inSync" } })) return "inSync"
  if (snapshot.matches("secondary")) return "joining"
  if (snapshot.matches("primary")) return "primary"
  if (snapshot.matches("electing")) return "electing"
  if (snapshot.matches("probing")) return "probing"
  if (snapshot.matches("frozen")) return "frozen"
  if (snapshot.matches("stopped")) return "stopped"
  return "starting"
}
