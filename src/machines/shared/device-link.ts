/**
 * What the device side of a TLS management link has in common, whatever the protocol (OFTP to a
 * FortiAnalyzer, FGFM to a FortiManager): the `connect` actor the device supplies, the states
 * without a link, and the reasons for the peer's verdict.
 *
 * The state bodies name the states every such machine has: `establishing` (where START and a
 * retry lead), `disconnected` (where `closing` ends), and the actions `closeLink` (drops the link,
 * on entry to every state without one) and `sendClose` (the protocol's close message).
 */
import { fromPromise } from "xstate"

/** Opens TCP+TLS and sends the first message; the device supplies it with `.provide()`. */
export const connectSuppliedByDevice = fromPromise<void>(() => Promise.reject(new Error("the device supplies connect")))

/** No link, no timer: `disconnected`, and stopped by the peer; START begins again. */
export const waitingForStart = { entry: "closeLink", on: { START: "establishing" } } as const

/** Passing through: the close message goes out, then the link is dropped on entry to `disconnected`. */
export const closingLink = { entry: "sendClose", always: { target: "disconnected" } } as const

/** No link until the `delay` (the protocol's retry setting) has passed. */
export const retryingAfter = <Delay extends string>(delay: Delay) =>
  ({ entry: "closeLink", after: { [delay]: "establishing" } }) as { readonly entry: "closeLink"; readonly after: Readonly<Record<Delay, "establishing">> }

/** The peer's verdict on the device, for the reason: "authorized on the analyzer". */
export const verdictOn = (peer: string, status: "authorized" | "pending"): string =>
  status === "authorized" ? `authorized on ${peer}` : `pending authorization on ${peer}`

