/**
 * The FortiManager side of one FGFM connection (fgfmd), as a machine.
 *
 *   handshake --TLS_UP--> awaitingRegister --REGISTER--> registering --ACCEPTED--> registered
 *       |                     |                              |                        |
 *       +-- handshake-timeout +-- register-timeout,          +-- REFUSED (duplicate-  +-- sock-timeout, close,
 *       |                     |   register-required          |   session)             |   device-deleted
 *       +---------------------+------------------------------+------------------------+--> closed (final)
 *
 * `closed` records why in `context.code` (an `FgfmErrorCode`, or `device-closed`, `link-lost`,
 * `manager-closed` for the ordinary ends) and `context.reason`. `registered` closes the session
 * when nothing at all arrived for `sock_timeout` (the value the device asked for in its register
 * request, which the FortiManager grants in its reply), and answers every keepalive.
 *
 * Pure: the device supplies with `.provide()`: `register` (checks for a duplicate session and
 * updates the device list, then answers with ACCEPTED or REFUSED), `sendRegisterReply`,
 * `sendKeepaliveReply`, `sendStatus` (reads the AUTHORIZATION event), `sendError` / `sendClose`
 * (read `context.code` / `context.reason`) and `closeLink` (on entry to `closed`).
 */
import { assign, type SnapshotFrom, setup } from "xstate"
import { type FgfmAuthorization, type FgfmErrorCode, type FgfmMessageType, fgfmHead, type FgfmRegister } from "../protocols/fgfm/frames.ts"
import { within } from "./shared/reasons.ts"

export interface FgfmSessionTimers {
  /** fazlab's `handshake-timeout`: from TCP accept to the end of the TLS handshake. */
  readonly handshakeTimeoutMs: number
  /** fazlab's `register-timeout`: from the end of the TLS handshake to request=register. */
  readonly registerTimeoutMs: number
}

export const FGFM_SESSION_DEFAULT_TIMERS: FgfmSessionTimers = {
  handshakeTimeoutMs: 10_000,
  registerTimeoutMs: 10_000
}

/** Why a session ended: an error code, or one of the ordinary ends. */
export type FgfmSessionEnd = FgfmErrorCode | "device-closed" | "link-lost" | "manager-closed"

export type FgfmSessionEvent =
  | { readonly type: "TLS_UP" }
  | { readonly type: "REGISTER"; readonly register: FgfmRegister }
  /** Any message but register and close. */
  | { readonly type: "MESSAGE"; readonly messageType: Exclude<FgfmMessageType, "register" | "close"> }
  | { readonly type: "CLOSE_MESSAGE"; readonly reason: string }
  | { readonly type: "ACCEPTED"; readonly status: FgfmAuthorization }
  | { readonly type: "REFUSED"; readonly code: FgfmErrorCode; readonly reason: string }
  /** An administrator changed the device's authorization while the session is up. */
  | { readonly type: "AUTHORIZATION"; readonly status: FgfmAuthorization | "deleted" }
  | { readonly type: "PROTOCOL_ERROR"; readonly code: FgfmErrorCode; readonly reason: string }
  | { readonly type: "LINK_LOST"; readonly reason: string }
  | { readonly type: "SHUTDOWN"; readonly reason: string }

export interface FgfmSessionContext extends FgfmSessionTimers {
  /** FGFM `sock_timeout` the device asked for in its register request (and got in the reply); 0 before it. */
  readonly sockTimeoutMs: number
  readonly register: FgfmRegister | null
  readonly status: FgfmAuthorization | null
  readonly code: FgfmSessionEnd | null
  readonly reason: string
}

const serialOf = (context: FgfmSessionContext): string => context.register?.serialno ?? "the device"

const registeredReason = (serial: string, status: FgfmAuthorization): string =>
  status === "authorized" ? `${serial} registered and authorized` : `${serial} registered, pending authorization`

export const fgfmSessionMachine = setup({
  types: {
    context: {} as FgfmSessionContext,
    input: {} as FgfmSessionTimers,
    events: {} as FgfmSessionEvent
  },
  actions: {
    register: () => undefined,
    sendRegisterReply: () => undefined,
    sendKeepaliveReply: () => undefined,
    sendStatus: () => undefined,
    sendError: () => undefined,
    sendClose: () => undefined,
    closeLink: () => undefined
  },
  guards: {
    isKeepalive: ({ event }) => event.type === "MESSAGE" && event.messageType === "keepalive"
  },
  delays: {
    HANDSHAKE_TIMEOUT: ({ context }) => context.handshakeTimeoutMs,
    REGISTER_TIMEOUT: ({ context }) => context.registerTimeoutMs,
    SOCK_TIMEOUT: ({ context }) => context.sockTimeoutMs
  }
}).createMachine({
  id: "fgfm-session",
  context: ({ input }) => ({ ...input, sockTimeoutMs: 0, register: null, status: null, code: null, reason: "TCP connection accepted; waiting for TLS" }),
  initial: "handshake",
  on: {
    LINK_LOST: { target: ".closed", actions: assign({ code: "link-lost", reason: ({ event }) => event.reason }) },
    PROTOCOL_ERROR: { target: ".closed", actions: [assign({ code: ({ event }) => event.code, reason: ({ event }) => event.reason }), "sendError"] },
    SHUTDOWN: { target: ".closed", actions: [assign({ code: "manager-closed", reason: ({ event }) => event.reason }), "sendClose"] }
  },
  states: {
    handshake: {
      after: {
        HANDSHAKE_TIMEOUT: {
          target: "closed",
          actions: assign({ code: "handshake-timeout", reason: ({ context }) => `no TLS handshake ${within("handshake-timeout", context.handshakeTimeoutMs)}` })
        }
      },
      on: { TLS_UP: { target: "awaitingRegister", actions: assign({ reason: "TLS up; waiting for request=register" }) } }
    },
    awaitingRegister: {
      after: {
        REGISTER_TIMEOUT: {
          target: "closed",
          actions: [
            assign({ code: "register-timeout", reason: ({ context }) => `no request=register ${within("register-timeout", context.registerTimeoutMs)}` }),
            "sendError"
          ]
        }
      },
      on: {
        REGISTER: {
          target: "registering",
          actions: [
            assign({
              register: ({ event }) => event.register,
              sockTimeoutMs: ({ event }) => event.register.sockTimeout * 1000,
              reason: ({ event }) => `register request from ${event.register.serialno}`
            }),
            "register"
          ]
        },
        MESSAGE: {
          target: "closed",
          actions: [
            assign({ code: "register-required", reason: ({ event }) => `the device sent ${fgfmHead(event.messageType)} before request=register` }),
            "sendError"
          ]
        },
        CLOSE_MESSAGE: { target: "closed", actions: assign({ code: "device-closed", reason: ({ event }) => `the device closed the session: ${event.reason}` }) }
      }
    },
    registering: {
      on: {
        ACCEPTED: {
          target: "registered",
          actions: [
            assign({ status: ({ event }) => event.status, reason: ({ context, event }) => registeredReason(serialOf(context), event.status) }),
            "sendRegisterReply"
          ]
        },
        REFUSED: { target: "closed", actions: [assign({ code: ({ event }) => event.code, reason: ({ event }) => event.reason }), "sendError"] },
        CLOSE_MESSAGE: { target: "closed", actions: assign({ code: "device-closed", reason: ({ event }) => `the device closed the session: ${event.reason}` }) }
      }
    },
    registered: {
      after: {
        SOCK_TIMEOUT: {
          target: "closed",
          actions: [
            assign({
              code: "sock-timeout",
              reason: ({ context }) => `nothing from ${serialOf(context)} ${within("sock_timeout", context.sockTimeoutMs)}`
            }),
            "sendError"
          ]
        }
      },
      on: {
        MESSAGE: [
          { guard: "isKeepalive", target: "registered", reenter: true, actions: "sendKeepaliveReply" },
          { target: "registered", reenter: true }
        ],
        REGISTER: { target: "registered", reenter: true },
        CLOSE_MESSAGE: { target: "closed", actions: assign({ code: "device-closed", reason: ({ event }) => `the device closed the session: ${event.reason}` }) },
        AUTHORIZATION: [
          {
            guard: ({ event }) => event.status === "deleted",
            target: "closed",
            actions: ["sendStatus", assign({ code: "device-deleted", reason: "device deleted on the FortiManager" })]
          },
          {
            actions: [
              assign({
                status: ({ event }) => (event.status === "authorized" ? "authorized" : "pending"),
                reason: ({ context, event }) => registeredReason(serialOf(context), event.status === "authorized" ? "authorized" : "pending")
              }),
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

export type FgfmSessionSnapshot = SnapshotFrom<typeof fgfmSessionMachine>
