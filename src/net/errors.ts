/**
 * Socket errors a user can act on.
 *
 * A `BindError` names the device, the documented port, the actual address and port, and the
 * flag that fixes it, in one sentence: the CLI prints `message` as it is. A `DialError` names
 * the target. `code` is the operating system's code (EADDRINUSE, EACCES, ECONNREFUSED ...).
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

export class BindError extends Schema.TaggedError<BindError>()("BindError", {
  device: Schema.String,
  port: Schema.String,
  address: Schema.String,
  actualPort: Schema.Number,
  code: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.device} cannot listen on ${this.port} (actual ${this.address}:${this.actualPort}): ${this.reason}`
  }
}

export class DialError extends Schema.TaggedError<DialError>()("DialError", {
  target: Schema.String,
  code: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `cannot reach ${this.target}: ${this.reason}`
  }
}

/** The one sentence that explains an OS bind error and says how to fix it. */
export const explainBindFailure = (code: string, documentedPort: number): string => {
  switch (code) {
    case "EADDRINUSE":
      return `the address is already in use by another program; stop it, or move the lab with --port-base N (documented ${documentedPort} then listens on N+${documentedPort})`
    case "EACCES":
      return `permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE); run with --port-base N, e.g. --port-base 20000 to listen on ${20000 + documentedPort}`
    case "EADDRNOTAVAIL":
      return "the address does not exist on this machine; use --addressing shared to put every device on 127.0.0.1"
    default:
      return `the operating system refused (${code}); try --port-base N or --addressing shared`
  }
}

/** The OS error code of an unknown thrown value ("UNKNOWN" when it has none). */
export const errorCode = (cause: unknown): string =>
  Predicate.hasProperty(cause, "code") && Predicate.isString(cause.code) ? cause.code : "UNKNOWN"

/** The `BindError` for a listener that could not bind, from the OS error it got. */
export const bindError = (
  listener: { readonly device: string; readonly port: string; readonly host: string; readonly actualPort: number },
  cause: unknown
): BindError => {
  const code = errorCode(cause)
  return new BindError({
    device: listener.device,
    port: listener.port,
    address: listener.host,
    actualPort: listener.actualPort,
    code,
    reason: explainBindFailure(code, Number(listener.port.split("/")[1]))
  })
}
