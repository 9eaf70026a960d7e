/**
 * The analyzer's alert email: event handlers (`config system alert-event`) whose alerts
 * (`alerts.ts`) happen send a mail to each of their `mail` destinations, through the SMTP server
 * the destination names (`config system mail`, TCP/25): the lab's emulated relay, or any real one.
 *
 * The SMTP client is nodemailer (the most used mail library for Node, pure JavaScript): with
 * `secure-option default` it uses STARTTLS when the server offers it, else plain text, as
 * FortiAnalyzer does; `smtps` is TLS from the start, `starttls` requires it, `none` never tries.
 * The server's certificate is not checked (a lab relay has the lab's own). Fortinet publishes no
 * template for alert mail; fazlab's subject and body are said in docs/protocols/alert-mail.md.
 * Reports (`reports.ts`) mail their files through the same `send`, as attachments. Each mail
 * sent, or refused, is a `mail-sent` event.
 */
import * as Schema from "effect/Schema"
import nodemailer from "nodemailer"
import type { EventBus } from "../../events/bus.ts"
import type { PortPlan } from "../../net/port-plan.ts"
import { resolveServer } from "../../net/server-address.ts"
import { NonEmpty, orNull, Server, settingsStruct, wholeNumber, withDefault } from "../settings.ts"
import { ALERT_KINDS, type Alert } from "./alerts.ts"

/** One `config system mail` entry: an SMTP server the analyzer sends through (FortiAnalyzer's names). */
export const MailServer = settingsStruct({
  /** What alert destinations name (`smtp-name`). */
  id: NonEmpty,
  /** A device of the lab (an SMTP relay), or a host outside it. */
  server: Server,
  port: withDefault(wholeNumber(1, 65535), 25),
  auth: withDefault(Schema.Literals(["enable", "disable"]), "disable"),
  user: orNull(NonEmpty),
  passwd: orNull(Schema.String),
  secureOption: withDefault(Schema.Literals(["default", "none", "smtps", "starttls"]), "default"),
  from: withDefault(NonEmpty, "fortianalyzer@fazlab.example")
})
export type MailServer = typeof MailServer.Type

/** One `config system alert-event` entry: which alerts it handles (`alerts` is fazlab's) and whom it mails. */
export const AlertEvent = settingsStruct({
  name: NonEmpty,
  alerts: Schema.Array(Schema.Literals(ALERT_KINDS)).check(Schema.isMinLength(1, { expected: "a list of at least one alert" })),
  alertDestination: Schema.Array(settingsStruct({
    type: Schema.Literal("mail"),
    smtpName: NonEmpty,
    from: orNull(NonEmpty),
    to: Schema.ArrayEnsure(NonEmpty)
  }))
})
export type AlertEvent = typeof AlertEvent.Type

/** One mail to send through a `config system mail` entry. */
export interface OutgoingMail {
  /** The `mail-sent` event's `handler`: the event handler's name, or `report <schedule>`. */
  readonly handler: string
  readonly smtpName: string
  /** null: the mail entry's `from`. */
  readonly from: string | null
  readonly to: ReadonlyArray<string>
  readonly subject: string
  readonly text: string
  readonly attachments?: ReadonlyArray<{ readonly filename: string; readonly content: Buffer }>
  /** What the mail is, in a failure sentence ("the alert mail of event handler X"). */
  readonly what: string
  /** Who names the mail entry, in a sentence ("event handler X"). */
  readonly namedBy: string
}

export interface AlertMailOptions {
  readonly analyzer: string
  readonly serial: string
  readonly bus: EventBus
  readonly plan: PortPlan
  readonly mail: ReadonlyArray<MailServer>
  readonly alertEvents: ReadonlyArray<AlertEvent>
}

/** The subject and body of one alert mail. */
export const alertMail = (analyzer: string, serial: string, handler: string, alert: Alert, at: Date): { readonly subject: string; readonly text: string } => ({
  subject: `[${analyzer}] ${handler}: ${alert.message}`,
  text: [
    `FortiAnalyzer ${analyzer} (${serial}) event handler ${handler} was triggered.`,
    "",
    `Alert: ${alert.kind}`,
    ...(alert.subject === null ? [] : [`Device: ${alert.subject}`]),
    `Time: ${at.toISOString()}`,
    "",
    alert.message,
    ""
  ].join("\n")
})

export class AlertMailer {
  readonly #options: AlertMailOptions
  readonly #sent = new Map<string, number>()

  constructor(options: AlertMailOptions) {
    this.#options = options
  }

  /** Mails sent through the `config system mail` entry `smtpName` (or through all). */
  sent(smtpName?: string): number {
    if (smtpName !== undefined) return this.#sent.get(smtpName) ?? 0
    let total = 0
    for (const n of this.#sent.values()) total += n
    return total
  }

  readonly alert = (alert: Alert): void => {
    const { analyzer, serial } = this.#options
    for (const handler of this.#options.alertEvents) {
      if (!handler.alerts.includes(alert.kind)) continue
      for (const destination of handler.alertDestination) {
        const { subject, text } = alertMail(analyzer, serial, handler.name, alert, new Date())
        void this.send({
          handler: handler.name,
          smtpName: destination.smtpName,
          from: destination.from,
          to: destination.to,
          subject,
          text,
          what: `the alert mail of event handler ${handler.name}`,
          namedBy: `event handler ${handler.name}`
        })
      }
    }
  }

  /**
   * Sends one mail through the `config system mail` entry `smtpName` (an alert, a report), and
   * says so as a `mail-sent` event; resolves with whether the server took it. An entry that does
   * not exist is said, not sent.
   */
  send(mail: OutgoingMail): Promise<boolean> {
    const server = this.#options.mail.find((entry) => entry.id === mail.smtpName)
    if (server !== undefined) return this.#send(server, mail)
    const ids = this.#options.mail.map((entry) => entry.id)
    this.#publish(mail, "-", null, `${mail.namedBy} names smtp-name ${mail.smtpName}, which no mail entry of ${this.#options.analyzer} has (${ids.length === 0 ? "it has none" : ids.join(", ")}); add it under mail`)
    return Promise.resolve(false)
  }

  #publish(mail: OutgoingMail, server: string, response: string | null, error: string | null): void {
    const { analyzer, bus } = this.#options
    bus.publish({
      type: "mail-sent",
      device: analyzer,
      handler: mail.handler,
      smtp: mail.smtpName,
      to: [...mail.to],
      subject: mail.subject,
      server,
      response,
      error,
      ...(mail.attachments === undefined ? {} : { attachments: mail.attachments.map((file) => file.filename) })
    })
  }

  async #send(server: MailServer, mail: OutgoingMail): Promise<boolean> {
    const { analyzer, plan } = this.#options
    const target = resolveServer(plan, server.server, `tcp/${server.port}`)
    const source = plan.sourceAddressOf(analyzer)
    const transport = nodemailer.createTransport({
      host: target.address,
      port: target.actualPort,
      secure: server.secureOption === "smtps",
      ignoreTLS: server.secureOption === "none",
      requireTLS: server.secureOption === "starttls",
      name: analyzer,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      tls: { rejectUnauthorized: false },
      ...(source === undefined ? {} : { localAddress: source }),
      ...(server.auth === "enable" && server.user !== null ? { auth: { user: server.user, pass: server.passwd ?? "" } } : {})
    })
    const where = `${server.server} (${target.address}:${target.actualPort})`
    try {
      const info = await transport.sendMail({
        from: mail.from ?? server.from,
        to: [...mail.to],
        subject: mail.subject,
        text: mail.text,
        ...(mail.attachments === undefined ? {} : { attachments: mail.attachments.map((file) => ({ filename: file.filename, content: file.content })) })
      })
      this.#sent.set(server.id, (this.#sent.get(server.id) ?? 0) + 1)
      this.#publish(mail, where, String(info.response), null)
      return true
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause)
      this.#publish(mail, where, null, `${mail.what} could not be sent through ${where}: ${reason}`)
      return false
    } finally {
      transport.close()
    }
  }
}
