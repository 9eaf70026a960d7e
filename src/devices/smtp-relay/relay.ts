/**
 * An emulated SMTP relay (the vendor table's "Non-Fortinet · Alert email · TCP/25" peer): it
 * listens on TCP/25, accepts every mail (no relaying on: it keeps them), and keeps what it
 * received so a scenario can ask for it and `swaks` can test it.
 *
 * SMTP is nodemailer's smtp-server (the SMTP server library of the nodemailer project, pure
 * JavaScript, with STARTTLS offered with a certificate of the lab CA). It binds its own socket
 * (the lab's TCP listener cannot follow a connection that STARTTLS wraps in TLS) where the port
 * plan says, with `max-connections` as its client limit. A clean stop lets open sessions finish
 * for up to a second (then 421), a kill cuts them. Each mail received is a `mail-received` event; a mail over `max-message-bytes` is
 * refused with 552 and said once as a `mail-refused` event.
 */
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server"
import * as Effect from "effect/Effect"
import type { PortKey } from "../../events/events.ts"
import type { BindError } from "../../net/errors.ts"
import type { TlsIdentity } from "../../net/pki.ts"
import { bindError } from "../../net/errors.ts"
import type { Halt } from "../shared/listener-run.ts"
import { PeerServer } from "../shared/peer-server.ts"

export const SMTP_PORT: PortKey = "tcp/25"

export interface SmtpRelaySettings {
  readonly serial: string
  /** The name it greets with (`220 NAME ESMTP`). */
  readonly hostname: string
  readonly maxMessageBytes: number
  readonly maxConnections: number
}

/** One mail the relay took. */
export interface ReceivedMail {
  readonly from: string
  readonly to: ReadonlyArray<string>
  readonly subject: string
  readonly bytes: number
  readonly peer: string
  /** Whether the session ran STARTTLS first. */
  readonly tls: boolean
  /** Milliseconds since the epoch. */
  readonly receivedAt: number
  readonly raw: string
}

/** The `Subject:` header of a raw message (folded lines joined), or "" when it has none. */
export const subjectOf = (raw: string): string => {
  const end = raw.search(/\r?\n\r?\n/u)
  const head = (end < 0 ? raw : raw.slice(0, end)).replace(/\r?\n[ \t]+/gu, " ")
  return /^subject:[ \t]*(.*)$/imu.exec(head)?.[1]?.trim() ?? ""
}

const address = (entry: SMTPServerAddress | false): string => (entry === false ? "" : entry.address)

export class SmtpRelay extends PeerServer<SmtpRelaySettings> {
  readonly kind = "smtp-relay" as const
  readonly #mails: Array<ReceivedMail> = []
  #server: SMTPServer | null = null
  refused = 0

  /** What it received, oldest first. */
  mails(): ReadonlyArray<ReceivedMail> {
    return this.#mails
  }

  protected override prepare(): Effect.Effect<void> {
    const { pki, plan } = this.context
    const issue: Effect.Effect<TlsIdentity | null> = pki === null
      ? Effect.succeed(null)
      : Effect.promise(() => pki.issue({ serial: this.settings.serial, role: "server", ips: [plan.addressOf(this.id), "127.0.0.1"], hostnames: [this.settings.hostname, "localhost"] }))
    return issue.pipe(Effect.map((identity) => {
      this.#server = new SMTPServer({
        name: this.settings.hostname,
        banner: "fazlab SMTP relay",
        size: this.settings.maxMessageBytes,
        maxClients: this.settings.maxConnections,
        closeTimeout: 1000,
        authOptional: true,
        disableReverseLookup: true,
        logger: false,
        ...(identity === null ? { hideSTARTTLS: true } : { key: identity.keyPem, cert: identity.certPem }),
        onData: (stream, session, callback) => this.#take(stream, session, callback)
      })
      this.#server.on("error", () => undefined)
    }))
  }

  /** smtp-server binds its own socket (see the module's docblock), where the port plan says. */
  protected bind() {
    const self = this
    const where = { device: this.id, port: SMTP_PORT, host: this.host, actualPort: this.context.plan.listenPortFor(SMTP_PORT) }
    return Effect.gen(function*() {
      const server = self.#server
      if (server === null) return
      const bound = yield* Effect.acquireRelease(
        Effect.callback<{ readonly address: string; readonly actualPort: number }, BindError>((resume) => {
          const onError = (cause: unknown) => resume(Effect.fail(bindError(where, cause)))
          server.server.once("error", onError)
          server.listen(where.actualPort, where.host, () => {
            server.server.off("error", onError)
            const address = server.server.address()
            resume(Effect.succeed(typeof address === "object" && address !== null ? { address: address.address, actualPort: address.port } : { address: where.host, actualPort: where.actualPort }))
          })
        }),
        () => Effect.callback<void>((resume) => server.close(() => resume(Effect.void)))
      )
      yield* self.announce([{ port: SMTP_PORT, ...bound }])
    })
  }

  #take(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null) => void): void {
    const chunks: Array<Buffer> = []
    stream.on("data", (chunk: Buffer) => chunks.push(chunk))
    stream.on("end", () => {
      const peer = `${session.remoteAddress}:${session.remotePort}`
      const from = address(session.envelope.mailFrom)
      const to = session.envelope.rcptTo.map((rcpt) => rcpt.address)
      if (stream.sizeExceeded) {
        this.refused++
        const reason = `a mail from ${from || "<>"} is over max-message-bytes ${this.settings.maxMessageBytes}; refused with 552`
        this.context.bus.publish({ type: "mail-refused", device: this.id, peer, from, reason })
        const error = Object.assign(new Error(`Message exceeds max-message-bytes ${this.settings.maxMessageBytes}`), { responseCode: 552 })
        callback(error)
        return
      }
      const raw = Buffer.concat(chunks).toString("utf8")
      const mail: ReceivedMail = { from, to, subject: subjectOf(raw), bytes: stream.byteLength, peer, tls: session.secure, receivedAt: Date.now(), raw }
      this.#mails.push(mail)
      this.context.bus.publish({ type: "mail-received", device: this.id, peer, from, to, subject: mail.subject, bytes: mail.bytes, total: this.#mails.length })
      callback(null)
    })
  }

  /** A crash cuts open sessions at once; a clean stop lets them finish (smtp-server's `closeTimeout`). */
  protected override closing(how: Halt): Effect.Effect<void> {
    return Effect.sync(() => {
      if (how === "crash") for (const connection of this.#server?.connections ?? []) connection.close()
    })
  }

  protected override closed(): void {
    this.#server = null
  }
}
