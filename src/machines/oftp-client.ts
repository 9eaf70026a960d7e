/**
 * The device side of an OFTP session (a FortiGate's `config log fortianalyzer setting`), as a
 * machine.
 *
 *   disconnected --START--> establishing: connecting --TLS up--> hello --HELLO_REPLY--> online
 *        ^                       |  (conn-timeout bounds both steps)                    |
 *        |                       +--fails / times out--> retrying <--link lost, ERROR, silence--+
 *        |                                                  |
 *        |                          establishing <--RETRY_PERIOD--+
 *        +--(STOP: closing sends CLOSE when a session is up)
 *   STATUS deleted / ERROR device-deleted --> stopped-by-analyzer (START begins again)
 *
 * `online` sends a KEEPALIVE when nothing was sent for `monitor-keepalive-period`, and gives the
 * link up when nothing at all arrives within `conn-timeout` after that keepalive. A `pending`
 * device streams like an authorized one (the analyzer keeps its logs apart until an administrator
 * authorizes it); the authorization is kept in the context.
 *
 * Pure: opening TCP+TLS (`connect`) is an actor, and writing frames (`sendHello`, `sendKeepalive`,
 * `sendKeepaliveReply`, `sendClose`) and dropping the link (`closeLink`, on entry to every state
 * without a link) are actions, all supplied by the device with `.provide()`. The device reports
 * what happens on the link as events: every frame it wrote (SENT), every frame it read
 * (RECEIVED, plus HELLO_REPLY / STATUS / ERROR_FRAME for those frames) and a lost link
 * (LINK_LOST). Time comes from the clock the actor is created with. Each state change carries
 * `context.reason`, a sentence the device publishes with the new state.
 */
import { assign, type SnapshotFrom, setup, stateIn } from "xstate"
import type { HelloReply, OftpAuthorization, OftpErrorCode, OftpFrameTypeName } from "../protocols/oftp/frames.ts"
import { closingLink, connectSuppliedByDevice, retryingAfter, verdictOn, waitingForStart } from "./shared/device-link.ts"
import { errorMessage, within } from "./shared/reasons.ts"

/** Timers, named after the FortiOS settings of `config log fortianalyzer setting`. */
export interface OftpClientTimers {
  /** `conn-timeout`: bounds connect + TLS + HELLO_REPLY, and the wait for any frame after a keepalive. */
  readonly connTimeoutMs: number
  /** `monitor-keepalive-period`: send a KEEPALIVE when nothing was sent for this long. */
  readonly keepalivePeriodMs: number
  /** `monitor-failure-retry-period`: the wait between a failure and the next connect. */
  readonly failureRetryPeriodMs: number
}

/** FortiOS defaults: conn-timeout 10 s, monitor-keepalive-period 5 s, monitor-failure-retry-period 5 s. */
export const OFTP_CLIENT_DEFAULT_TIMERS: OftpClientTimers = {
  connTimeoutMs: 10_000,
  keepalivePeriodMs: 5_000,
  failureRetryPeriodMs: 5_000
}

export type OftpClientEvent =
  | { readonly type: "START" }
  | { readonly type: "STOP" }
  | { readonly type: "LINK_LOST"; readonly reason: string }
  | ({ readonly type: "HELLO_REPLY" } & HelloReply)
  | { readonly type: "STATUS"; readonly status: OftpAuthorization | "deleted"; readonly adom: string | null }
  | { readonly type: "RECEIVED"; readonly frameType: OftpFrameTypeName }
  | { readonly type: "SENT" }
  | { readonly type: "ERROR_FRAME"; readonly code: OftpErrorCode; readonly reason: string }

export interface OftpClientContext extends OftpClientTimers {
  /** Why the session is in its current state, in words (shown in events and the UI). */
  readonly reason: string
  /** The analyzer's verdict on this device; null until the first HELLO_REPLY. */
  readonly authorization: OftpAuthorization | null
  /** Highest sequence number the analyzer has stored (from HELLO_REPLY): resend from lastSeq + 1. */
  readonly lastSeq: number
  readonly analyzerSerial: string | null
  readonly adom: string | null
}

/** The states a device reports: the leaf names, without the grouping state `establishing`. */
export type OftpClientPhase = "disconnected" | "connecting" | "hello" | "online" | "retrying" | "stopped-by-analyzer"

const authorizationReason = (status: OftpAuthorization): string => verdictOn("the analyzer", status)

export const oftpClientMachine = setup({
  types: {
    context: {} as OftpClientContext,
    input: {} as OftpClientTimers,
    events: {} as OftpClientEvent
  },
  actors: {
    connect: connectSuppliedByDevice
  },
  actions: {
    sendHello: () => undefined,
    sendKeepalive: () => undefined,
    sendKeepaliveReply: () => undefined,
    /** Writes CLOSE with `context.reason`; `closeLink` follows. */
    sendClose: () => undefined,
    /** Drops the TCP/TLS link if there is one (an in-flight `connect` is aborted by its signal). */
    closeLink: () => undefined
  },
  guards: {
    deviceDeleted: ({ event }) => event.type === "ERROR_FRAME" && event.code === "device-deleted",
    isKeepalive: ({ event }) => event.type === "RECEIVED" && event.frameType === "keepalive"
  },
  delays: {
    CONN_TIMEOUT: ({ context }) => context.connTimeoutMs,
    KEEPALIVE_PERIOD: ({ context }) => context.keepalivePeriodMs,
    RETRY_PERIOD: ({ context }) => context.failureRetryPeriodMs
  }
}).createMachine({
  id: "oftp-client",
  context: ({ input }) => ({
    ...input,
    reason: "not started",
    authorization: null,
    lastSeq: 0,
    analyzerSerial: null,
    adom: null
  }),
  initial: "disconnected",
  on: {
    STOP: { target: ".disconnected", actions: assign({ reason: "stopped" }) }
  },
  states: {
    disconnected: waitingForStart,
    establishing: {
      initial: "connecting",
      after: {
        CONN_TIMEOUT: [
          {
            guard: stateIn({ establishing: "hello" }),
            target: "retrying",
            actions: assign({ reason: ({ context }) => `no HELLO_REPLY ${within("conn-timeout", context.connTimeoutMs)}` })
          },
          {
            target: "retrying",
            actions: assign({ reason: ({ context }) => `no TLS connection to the analyzer ${within("conn-timeout", context.connTimeoutMs)}` })
          }
        ]
      },
      on: {
        LINK_LOST: { target: "retrying", actions: assign({ reason: ({ event }) => event.reason }) },
        ERROR_FRAME: [
          { guard: "deviceDeleted", target: "stopped-by-analyzer", actions: assign({ reason: "device deleted on the analyzer" }) },
          { target: "retrying", actions: assign({ reason: ({ event }) => `the analyzer refused the session: ${event.reason} (${event.code})` }) }
        ]
      },
      states: {
        connecting: {
          entry: assign({ reason: "connecting to the analyzer" }),
          invoke: {
            src: "connect",
            onDone: { target: "hello", actions: assign({ reason: "TLS up, HELLO sent; waiting for HELLO_REPLY" }) },
            onError: {
              target: "#oftp-client.retrying",
              actions: assign({
                reason: ({ event }) => errorMessage(event.error)
              })
            }
          }
        },
        hello: {
          entry: "sendHello",
          on: {
            STOP: { target: "#oftp-client.closing", actions: assign({ reason: "stopped" }) },
            HELLO_REPLY: {
              target: "#oftp-client.online",
              actions: assign({
                authorization: ({ event }) => event.status,
                lastSeq: ({ event }) => event.lastSeq,
                analyzerSerial: ({ event }) => event.analyzerSerial,
                adom: ({ event }) => event.adom,
                reason: ({ event }) => `connected to ${event.analyzerSerial}; ${authorizationReason(event.status)}`
              })
            }
          }
        }
      }
    },
    online: {
      initial: "quiet",
      on: {
        STOP: { target: "closing", actions: assign({ reason: "stopped" }) },
        LINK_LOST: { target: "retrying", actions: assign({ reason: ({ event }) => event.reason }) },
        ERROR_FRAME: [
          { guard: "deviceDeleted", target: "stopped-by-analyzer", actions: assign({ reason: "device deleted on the analyzer" }) },
          { target: "retrying", actions: assign({ reason: ({ event }) => `the analyzer closed the session: ${event.reason} (${event.code})` }) }
        ],
        STATUS: [
          {
            guard: ({ event }) => event.status === "deleted",
            target: "stopped-by-analyzer",
            actions: assign({ reason: "device deleted on the analyzer" })
          },
          {
            guard: ({ event }) => event.status === "authorized",
            actions: assign({ authorization: "authorized", adom: ({ event }) => event.adom, reason: authorizationReason("authorized") })
          },
          {
            actions: assign({ authorization: "pending", adom: ({ event }) => event.adom, reason: authorizationReason("pending") })
          }
        ]
      },
      states: {
        /** Something was sent lately; a keepalive is due after a quiet period. */
        quiet: {
          after: { KEEPALIVE_PERIOD: { target: "awaitingAnswer", actions: "sendKeepalive" } },
          on: {
            SENT: { target: "quiet", reenter: true },
            RECEIVED: { guard: "isKeepalive", actions: "sendKeepaliveReply" }
          }
        },
        /** A keepalive went out: something (anything) must arrive within conn-timeout. */
        awaitingAnswer: {
          after: {
            CONN_TIMEOUT: {
              target: "#oftp-client.retrying",
              actions: assign({ reason: ({ context }) => `no answer to keepalive ${within("conn-timeout", context.connTimeoutMs)}` })
            }
          },
          on: {
            RECEIVED: [
              { guard: "isKeepalive", target: "quiet", actions: "sendKeepaliveReply" },
              { target: "quiet" }
            ]
          }
        }
      }
    },
    /** CLOSE goes out, then the link is dropped. */
    closing: closingLink,
    retrying: retryingAfter("RETRY_PERIOD"),
    "stopped-by-analyzer": waitingForStart
  }
})

export type OftpClientSnapshot = SnapshotFrom<typeof oftpClientMachine>

/** The phase to report for a snapshot: `connecting` and `hello` rather than `establishing`. */
export function oftpClientPhase(snapshot: OftpClientSnapshot): OftpClientPhase {
  if (snapshot.matches({ establishing: "connecting" })) return "connecting"
  if (snapshot.matches({ establishing: "hello" })) return "hello"
  if (snapshot.matches("online")) return "online"
  if (snapshot.matches("retrying")) return "retrying"
  if (snapshot.matches("stopped-by-analyzer")) return "stopped-by-analyzer"
  return "disconnected"
}
