/**
 * The lifecycle of a syslog sender (a FortiGate's or FortiClient's `log syslogd`), as a machine.
 *
 *   stopped --START--> connecting --link up--> sending --DONE--> done
 *                          ^   |                 |  ^
 *                          |   +--fails--+       |  +--RESUME-- paused <--PAUSE--+
 *                          +--RETRY_DELAY-- backoff <--LINK_LOST--+
 *
 * Pure: opening the link (`connect`) and pacing the logs (`pump`) are actors the device
 * supplies with `.provide()`, and time comes from the clock the actor is created with, so tests
 * drive it with a simulated clock. STOP from any state goes to `stopped`; BURST wakes a sender
 * that is `done` (a burst sends logs beyond its configured count).
 */
import { assign, fromCallback, fromPromise, setup } from "xstate"

export type SyslogSenderEvent =
  | { readonly type: "START" }
  | { readonly type: "STOP" }
  | { readonly type: "PAUSE" }
  | { readonly type: "RESUME" }
  | { readonly type: "BURST" }
  | { readonly type: "LINK_LOST"; readonly reason: string }
  /** Every log it was to send is sent: the configured count, or the replayed file's last log. */
  | { readonly type: "DONE"; readonly reason: string }

export interface SyslogSenderContext {
  /** Why the sender is in its current state, in words (shown in events and the UI). */
  readonly reason: string
  /** Milliseconds between a failed or lost link and the next attempt. */
  readonly retryDelayMs: number
}

export const syslogSenderMachine = setup({
  types: {
    context: {} as SyslogSenderContext,
    input: {} as { readonly retryDelayMs: number },
    events: {} as SyslogSenderEvent
  },
  actors: {
    connect: fromPromise<void>(() => Promise.reject(new Error("the device supplies connect"))),
    pump: fromCallback<SyslogSenderEvent>(() => undefined)
  },
  delays: {
    RETRY_DELAY: ({ context }) => context.retryDelayMs
  }
}).createMachine({
  id: "syslog-sender",
  context: ({ input }) => ({ reason: "not started", retryDelayMs: input.retryDelayMs }),
  initial: "stopped",
  on: {
    STOP: { target: ".stopped", actions: assign({ reason: "stopped" }) }
  },
  states: {
    stopped: {
      on: { START: { target: "connecting", actions: assign({ reason: "started" }) } }
    },
    connecting: {
      invoke: {
        src: "connect",
        onDone: { target: "sending", actions: assign({ reason: "link up" }) },
        onError: {
          target: "backoff",
          actions: assign({
            reason: ({ event }) => (event.error instanceof Error ? event.error.message : String(event.error))
          })
        }
      }
    },
    sending: {
      invoke: { src: "pump" },
      on: {
        PAUSE: { target: "paused", actions: assign({ reason: "paused" }) },
        LINK_LOST: { target: "backoff", actions: assign({ reason: ({ event }) => event.reason }) },
        DONE: { target: "done", actions: assign({ reason: ({ event }) => event.reason }) }
      }
    },
    paused: {
      on: { RESUME: { target: "sending", actions: assign({ reason: "resumed" }) } }
    },
    backoff: {
      after: { RETRY_DELAY: "connecting" },
      on: { BURST: "connecting" }
    },
    done: {
      on: { BURST: { target: "connecting", actions: assign({ reason: "burst" }) } }
    }
  }
})
