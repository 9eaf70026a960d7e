/**
 * The analyzer side of one OFTP connection (FortiAnalyzer's oftpd), as a machine.
 *
 *   handshake --TLS_UP--> awaitingHello --HELLO--> registering --REGISTERED--> online
 *       |                     |                        |                         |
 *       +-- handshake-timeout,+-- hello-timeout,       +-- REFUSED (duplicate-   +-- keepalive-timeout,
 *       |   TLS_FAILED        |   hello-required       |   session, ...)         |   CLOSE, device-deleted
 *       +---------------------+------------------------+-------------------------+--> closed (final)
 *
 * `closed` records why in `context.code` (an `OftpErrorCode`, or `device-closed`, `link-lost`,
 * `analyzer-closed` for the ordinary ends) and `context.reason` (a sentence). `online` closes the
 * session when no frame at all arrived for 3 × the keepalive period the device announced in its
 * HELLO. A pending device is online like an authorized one: the store keeps its logs apart.
 *
 * Pure: the device supplies the actions with `.provide()`: `register` (checks duplicate sessions,
 * the PSK and the registry, then answers with REGISTERED or REFUSED), `sendHelloReply`,
 * `sendKeepaliveReply`, `sendStatus` (reads the AUTHORIZATION event), `sendError` and `sendClose`
 * (read `context.code` / `context.reason`) and `closeLink` (on entry to `closed`). The device turns
 * a failed TLS handshake into TLS_FAILED, every decoded frame into an event (HELLO, CLOSE_FRAME,
 * FRAME for the others) and a decoder error into PROTOCOL_ERROR; storing LOGS and sending ACKs
 * stay with the device. Time comes from the clock the actor is created with.
 */
import { assign, type SnapshotFrom, setup } from "xstate"
import { type Hello, type OftpAuthorization, type OftpErrorCode, type OftpFrameTypeName, wireName } from "../protocols/oftp/frames.ts"
import { within } from "./shared/reasons.ts"

export interface OftpSessionTimers {
  /** `handshake-timeout`: from TCP accept to the end of the TLS handshake. */
  readonly handshakeTimeoutMs: number
  /** `hello-timeout`: from the end of the TLS handshake to the HELLO. */
  readonly helloTimeoutMs: number
}

/** fazlab's defaults: 10 s each (FortiAnalyzer does not publish its own). */
export const OFTP_SESSION_DEFAULT_TIMERS: OftpSessionTimers = {
  handshakeTimeoutMs: 10_000,
  helloTimeoutMs: 10_000
}

/** The analyzer closes a session after this many keepalive periods without a frame. */
export const KEEPALIVE_TIMEOUT_FACTOR = 3

/** Why a session ended: an error code, or one of the ordinary ends. */
export type OftpSessionEnd = OftpErrorCode | "device-closed" | "link-lost" | "analyzer-closed"

export type OftpSessionEvent =
  | { readonly type: "TLS_UP" }
  /** The TLS handshake failed: OpenSSL refused the bytes ("tls-error"), or TLS's own timer ran out. */
  | { readonly type: "TLS_FAILED"; readonly code: "tls-error" | "handshake-timeout"; readonly reason: string }
  | { readonly type: "HELLO"; readonly hello: Hello }
  /** Any frame but HELLO and CLOSE. */
  | { readonly type: "FRAME"; readonly frameType: Exclude<OftpFrameTypeName, "hello" | "close"> }
  | { readonly type: "CLOSE_FRAME"; readonly reason: string }
  | { readonly type: "REGISTERED"; readonly status: OftpAuthorization; readonly adom: string | null }
  | { readonly type: "REFUSED"; readonly code: OftpErrorCode; readonly reason: string }
  /** An administrator changed the device's authorization while the session is up. */
  | { readonly type: "AUTHORIZATION"; readonly status: OftpAuthorization | "deleted"; readonly adom: string | null }
  /** The frame decoder failed (bad-magic, frame-too-large, bad-body, ...). */
  | { readonly type: "PROTOCOL_ERROR"; readonly code: OftpErrorCode; readonly reason: string }
  | { readonly type: "LINK_LOST"; readonly reason: string }
  /** The analyzer stops: CLOSE goes out, then the link is dropped. */
  | { readonly type: "SHUTDOWN"; readonly reason: string }

export interface OftpSessionContext extends OftpSessionTimers {
  /** What the device said in its HELLO; null before it. */
  readonly hello: Hello | null
  readonly status: OftpAuthorization | null
  readonly adom: string | null
  /** Why the session ended; null while it lasts. */
  readonly code: OftpSessionEnd | null
  /** Why the session is in its current state, in words. */
  readonly reason: string
}

const keepaliveTimeoutMs = (context: OftpSessionContext): number => KEEPALIVE_TIMEOUT_FACTOR * (context.hello?.keepaliveMs ?? 0)

const onlineReason = (serial: string, status: OftpAuthorization): string =>
  status === "authorized" ? `${serial} authorized` : `${serial} pending authorization`

const serialOf = (context: OftpSessionContext): string => context.hello?.serial ?? "the device"

export const oftpSessionMachine = setup({
  types: {
    context: {} as OftpSessionContext,
    input: {} as OftpSessionTimers,
    events: {} as OftpSessionEvent
  },
  actions: {
    /** Checks the HELLO (in the event); answers with REGISTERED or REFUSED. */
    register: () => undefined,
    sendHelloReply: () => undefined,
    sendKeepaliveReply: () => undefined,
    sendStatus: () => undefined,
    sendError: () => undefined,
    sendClose: () => undefined,
    closeLink: () => undefined
  },
  guards: {
    isKeepalive: ({ event }) => event.type === "FRAME" && event.frameType === "keepalive"
  },
  delays: {
    HANDSHAKE_TIMEOUT: ({ context }) => context.handshakeTimeoutMs,
    HELLO_TIMEOUT: ({ context }) => context.helloTimeoutMs,
    KEEPALIVE_TIMEOUT: ({ context }) => keepaliveTimeoutMs(context)
  }
}).createMachine({
  id: "oftp-session",
  context: ({ input }) => ({ ...input, hello: null, status: null, adom: null, code: null, reason: "TCP connection accepted; waiting for TLS" }),
  initial: "handshake",
  on: {
    LINK_LOST: { target: ".closed", actions: assign({ code: "link-lost", reason: ({ event }) => event.reason }) },
    PROTOCOL_ERROR: { target: ".closed", actions: [assign({ code: ({ event }) => event.code, reason: ({ event }) => event.reason }), "sendError"] },
    SHUTDOWN: { target: ".closed", actions: [assign({ code: "analyzer-closed", reason: ({ event }) => event.reason }), "sendClose"] }
  },
  states: {
    handshake: {
      after: {
        HANDSHAKE_TIMEOUT: {
          target: "closed",
          actions: assign({ code: "handshake-timeout", reason: ({ context }) => `no TLS handshake ${within("handshake-timeout", context.handshakeTimeoutMs)}` })
        }
      },
      on: {
        TLS_UP: { target: "awaitingHello", actions: assign({ reason: "TLS up; waiting for HELLO" }) },
        // No ERROR frame: there is no TLS to send it on.
        TLS_FAILED: { target: "closed", actions: assign({ code: ({ event }) => event.code, reason: ({ event }) => event.reason }) }
      }
    },
    awaitingHello: {
      after: {
        HELLO_TIMEOUT: {
          target: "closed",
          actions: [
            assign({ code: "hello-timeout", reason: ({ context }) => `no HELLO ${within("hello-timeout", context.helloTimeoutMs)}` }),
            "sendError"
          ]
        }
      },
      on: {
        HELLO: {
          target: "registering",
          actions: [assign({ hello: ({ event }) => event.hello, reason: ({ event }) => `HELLO from ${event.hello.serial}; registering` }), "register"]
        },
        FRAME: {
          target: "closed",
          actions: [
            assign({ code: "hello-required", reason: ({ event }) => `the device sent ${wireName(event.frameType)} before HELLO` }),
            "sendError"
          ]
        },
        CLOSE_FRAME: { target: "closed", actions: assign({ code: "device-closed", reason: ({ event }) => `the device closed the session: ${event.reason}` }) }
      }
    },
    registering: {
      on: {
        REGISTERED: {
          target: "online",
          actions: [
            assign({
              status: ({ event }) => event.status,
              adom: ({ event }) => event.adom,
              reason: ({ context, event }) => onlineReason(serialOf(context), event.status)
            }),
            "sendHelloReply"
          ]
        },
        REFUSED: { target: "closed", actions: [assign({ code: ({ event }) => event.code, reason: ({ event }) => event.reason }), "sendError"] },
        CLOSE_FRAME: { target: "closed", actions: assign({ code: "device-closed", reason: ({ event }) => `the device closed the session: ${event.reason}` }) }
      }
    },
    online: {
      after: {
        KEEPALIVE_TIMEOUT: {
          target: "closed",
          actions: [
            assign({
              code: "keepalive-timeout",
              reason: ({ context }) => `no frame from ${serialOf(context)} ${within(`${KEEPALIVE_TIMEOUT_FACTOR} × its keepalive`, keepaliveTimeoutMs(context))}`
            }),
            "sendError"
          ]
        }
      },
      on: {
        FRAME: [
          { guard: "isKeepalive", target: "online", reenter: true, actions: "sendKeepaliveReply" },
          { target: "online", reenter: true }
        ],
        HELLO: { target: "online", reenter: true },
        CLOSE_FRAME: { target: "closed", actions: assign({ code: "device-closed", reason: ({ event }) => `the device closed the session: ${event.reason}` }) },
        AUTHORIZATION: [
          {
            guard: ({ event }) => event.status === "deleted",
            target: "closed",
            actions: ["sendStatus", assign({ code: "device-deleted", reason: "device deleted on the analyzer" })]
          },
          {
            guard: ({ event }) => event.status === "authorized",
            actions: [
              assign({ status: "authorized", adom: ({ event }) => event.adom, reason: ({ context }) => onlineReason(serialOf(context), "authorized") }),
              "sendStatus"
            ]
          },
          {
            actions: [
              assign({ status: "pending", adom: ({ event }) => event.adom, reason: ({ context }) => onlineReason(serialOf(context), "pending") }),
              "sendStatus"
            ]
          }
        ]
      }
    },
    closed: {
      type: "final",
      entry: "closeLink"
    }
  }
})

export type OftpSessionSnapshot = SnapshotFrom<typeof oftpSessionMachine>
