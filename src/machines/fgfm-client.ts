/**
 * The FortiGate side of FGFM (`config system central-management`, type fortimanager), as a machine.
 *
 *   disconnected --START--> establishing: connecting --TLS up--> registering --REGISTER_REPLY--> registered
 *        ^                       |  (connect-timeout bounds both steps)                              |
 *        |                       +--fails / times out--> retrying <--link lost, error, sock_timeout--+
 *        |                                                  |
 *        |                          establishing <--RETRY_INTERVAL--+
 *        +--(STOP: closing sends request=close when a session is up)
 *   status=deleted / error device-deleted --> stopped-by-manager (START begins again)
 *
 * `registered` has two parallel regions: `keepalive` sends a keepalive every `keepalive_interval`
 * (300 s by default), `watchdog` gives the link up when nothing at all arrived from the
 * FortiManager for `sock_timeout` (900 s by default). The FortiManager's register reply may
 * change both timers: the FortiGate uses the values it announces. A pending device stays
 * registered; the authorization is kept in the context.
 *
 * Pure: opening TCP+TLS (`connect`) is an actor, and writing messages (`sendRegister`,
 * `sendKeepalive`, `sendClose`) and dropping the link (`closeLink`, on entry to every state
 * without a link) are actions, all supplied by the device with `.provide()`. The device reports
 * every message it read as RECEIVED (plus REGISTER_REPLY / STATUS / ERROR_MESSAGE for those) and
 * a lost link as LINK_LOST. Time comes from the clock the actor is created with.
 */
import { assign, type SnapshotFrom, setup, stateIn } from "xstate"
import type { FgfmAuthorization, FgfmErrorCode, FgfmRegisterReply } from "../protocols/fgfm/frames.ts"
import { closingLink, connectSuppliedByDevice, retryingAfter, verdictOn, waitingForStart } from "./shared/device-link.ts"
import { errorMessage, within } from "./shared/reasons.ts"

/** Timers in milliseconds. `keepaliveIntervalMs` / `sockTimeoutMs` are FGFM's `keepalive_interval` / `sock_timeout`. */
export interface FgfmClientTimers {
  readonly keepaliveIntervalMs: number
  readonly sockTimeoutMs: number
  /** fazlab's `connect-timeout`: bounds connect + TLS + register reply. */
  readonly connectTimeoutMs: number
  /** fazlab's `retry-interval`: the wait between a failure and the next connect. */
  readonly retryIntervalMs: number
}

/** keepalive_interval 300 s and sock_timeout 900 s (FortiManager protocol guide); connect 10 s and retry 10 s are fazlab's. */
export const FGFM_CLIENT_DEFAULT_TIMERS: FgfmClientTimers = {
  keepaliveIntervalMs: 300_000,
  sockTimeoutMs: 900_000,
  connectTimeoutMs: 10_000,
  retryIntervalMs: 10_000
}

export type FgfmClientEvent =
  | { readonly type: "START" }
  | { readonly type: "STOP" }
  | { readonly type: "LINK_LOST"; readonly reason: string }
  | ({ readonly type: "REGISTER_REPLY" } & FgfmRegisterReply)
  | { readonly type: "STATUS"; readonly status: FgfmAuthorization | "deleted" }
  | { readonly type: "RECEIVED" }
  | { readonly type: "ERROR_MESSAGE"; readonly code: FgfmErrorCode; readonly reason: string }

export interface FgfmClientContext extends FgfmClientTimers {
  readonly reason: string
  /** The FortiManager's verdict; null until the first register reply. */
  readonly authorization: FgfmAuthorization | null
  readonly managerSerial: string | null
  readonly mgmtid: number | null
}

/** The states a FortiGate reports: the leaf names, without the grouping states. */
export type FgfmClientPhase = "disconnected" | "connecting" | "registering" | "registered" | "retrying" | "stopped-by-manager"

const verdict = (status: FgfmAuthorization): string => verdictOn("the FortiManager", status)

export const fgfmClientMachine = setup({
  types: {
    context: {} as FgfmClientContext,
    input: {} as FgfmClientTimers,
    events: {} as FgfmClientEvent
  },
  actors: {
    connect: connectSuppliedByDevice
  },
  actions: {
    sendRegister: () => undefined,
    sendKeepalive: () => undefined,
    /** Writes request=close with `context.reason`; `closeLink` follows. */
    sendClose: () => undefined,
    closeLink: () => undefined
  },
  guards: {
    deviceDeleted: ({ event }) => event.type === "ERROR_MESSAGE" && event.code === "device-deleted"
  },
  delays: {
    CONNECT_TIMEOUT: ({ context }) => context.connectTimeoutMs,
    KEEPALIVE_INTERVAL: ({ context }) => context.keepaliveIntervalMs,
    SOCK_TIMEOUT: ({ context }) => context.sockTimeoutMs,
    RETRY_INTERVAL: ({ context }) => context.retryIntervalMs
  }
}).createMachine({
  id: "fgfm-client",
  context: ({ input }) => ({ ...input, reason: "not started", authorization: null, managerSerial: null, mgmtid: null }),
  initial: "disconnected",
  on: {
    STOP: { target: ".disconnected", actions: assign({ reason: "stopped" }) }
  },
  states: {
    disconnected: waitingForStart,
    establishing: {
      initial: "connecting",
      after: {
        CONNECT_TIMEOUT: [
          {
            guard: stateIn({ establishing: "registering" }),
            target: "retrying",
            actions: assign({ reason: ({ context }) => `no register reply ${within("connect-timeout", context.connectTimeoutMs)}` })
          },
          {
            target: "retrying",
            actions: assign({ reason: ({ context }) => `no TLS connection to the FortiManager ${within("connect-timeout", context.connectTimeoutMs)}` })
          }
        ]
      },
      on: {
        LINK_LOST: { target: "retrying", actions: assign({ reason: ({ event }) => event.reason }) },
        ERROR_MESSAGE: [
          { guard: "deviceDeleted", target: "stopped-by-manager", actions: assign({ reason: "device deleted on the FortiManager" }) },
          { target: "retrying", actions: assign({ reason: ({ event }) => `the FortiManager refused the registration: ${event.reason} (${event.code})` }) }
        ]
      },
      states: {
        connecting: {
          entry: assign({ reason: "connecting to the FortiManager" }),
          invoke: {
            src: "connect",
            onDone: { target: "registering", actions: assign({ reason: "TLS up, register request sent; waiting for the reply" }) },
            onError: {
              target: "#fgfm-client.retrying",
              actions: assign({ reason: ({ event }) => errorMessage(event.error) })
            }
          }
        },
        registering: {
          entry: "sendRegister",
          on: {
            STOP: { target: "#fgfm-client.closing", actions: assign({ reason: "stopped" }) },
            REGISTER_REPLY: {
              target: "#fgfm-client.registered",
              actions: assign({
                authorization: ({ event }) => event.status,
                managerSerial: ({ event }) => event.fmgSerialno,
                mgmtid: ({ event }) => event.mgmtid,
                keepaliveIntervalMs: ({ event }) => event.keepaliveInterval * 1000,
                sockTimeoutMs: ({ event }) => event.sockTimeout * 1000,
                reason: ({ event }) => `registered with ${event.fmgSerialno}; ${verdict(event.status)}`
              })
            }
          }
        }
      }
    },
    registered: {
      type: "parallel",
      on: {
        STOP: { target: "closing", actions: assign({ reason: "stopped" }) },
        LINK_LOST: { target: "retrying", actions: assign({ reason: ({ event }) => event.reason }) },
        ERROR_MESSAGE: [
          { guard: "deviceDeleted", target: "stopped-by-manager", actions: assign({ reason: "device deleted on the FortiManager" }) },
          { target: "retrying", actions: assign({ reason: ({ event }) => `the FortiManager closed the session: ${event.reason} (${event.code})` }) }
        ],
        STATUS: [
          { guard: ({ event }) => event.status === "deleted", target: "stopped-by-manager", actions: assign({ reason: "device deleted on the FortiManager" }) },
          { guard: ({ event }) => event.status === "authorized", actions: assign({ authorization: "authorized", reason: verdict("authorized") }) },
          { actions: assign({ authorization: "pending", reason: verdict("pending") }) }
        ]
      },
      states: {
        keepalive: {
          initial: "waiting",
          states: {
            waiting: {
              after: { KEEPALIVE_INTERVAL: { target: "waiting", reenter: true, actions: "sendKeepalive" } }
            }
          }
        },
        watchdog: {
          initial: "listening",
          states: {
            listening: {
              after: {
                SOCK_TIMEOUT: {
                  target: "#fgfm-client.retrying",
                  actions: assign({ reason: ({ context }) => `nothing from the FortiManager ${within("sock_timeout", context.sockTimeoutMs)}` })
                }
              },
              on: { RECEIVED: { target: "listening", reenter: true } }
            }
          }
        }
      }
    },
    /** request=close goes out, then the link is dropped. */
    closing: closingLink,
    retrying: retryingAfter("RETRY_INTERVAL"),
    "stopped-by-manager": waitingForStart
  }
})

export type FgfmClientSnapshot = SnapshotFrom<typeof fgfmClientMachine>

/** The phase to report for a snapshot. */
export function fgfmClientPhase(snapshot: FgfmClientSnapshot): FgfmClientPhase {
  if (snapshot.matches({ establishing: "connecting" })) return "connecting"
  if (snapshot.matches({ establishing: "registering" })) return "registering"
  if (snapshot.matches("registered")) return "registered"
  if (snapshot.matches("retrying")) return "retrying"
  if (snapshot.matches("stopped-by-manager")) return "stopped-by-manager"
  return "disconnected"
}
