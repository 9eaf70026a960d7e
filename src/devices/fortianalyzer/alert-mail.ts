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
 * Each mail sent, or refused, is a `mail-sent` event.
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
    for (const handler of this.#options.alertEvents) {
      if (!handler.alerts.includes(alert.kind)) continue
      for (const destination of handler.alertDestination) {
        const server = this.#options.mail.find((entry) => entry.id === destination.smtpName)
        if (server !== undefined) this.#send(handler.name, server, destination.from ?? server.from, destination.to, alert)
        else this.#unsent(handler.name, destination.smtpName, destination.to, alert)
      }
    }
  }

  /** A destination naming no `config system mail` entry: said, not sent. */
  #unsent(handler: string, smtpName: string, to: ReadonlyArray<string>, alert: Alert): void {
    const { analyzer, serial, bus } = this.#options
    const { subject } = alertMail(analyzer, serial, handler, alert, new Date())
    const ids = this.#options.mail.map((entry) => entry.id)
    bus.publish({
      type: "mail-sent",
      device: analyzer,
      handler,
      smtp: smtpName,
      to: [...to],
      subject,
      server: "-",
      response: null,
      error: `event handler ${handler} names smtp-name ${smtpName}, which no mail entry of ${analyzer} has (${ids.length === 0 ? "it has none" : ids.join(", ")}); add it under mail`
    })
  }

  #send(handler: string, server: MailServer, from: string, to: ReadonlyArray<string>, alert: Alert): void {
    const { analyzer, serial, bus, plan } = this.#options
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
    const { subject, text } = alertMail(analyzer, serial, handler, alert, new Date())
    const where = `${server.server} (${target.address}:${target.actualPort})`
    transport.sendMail({ from, to: [...to], subject, text }).then(
      (info) => {
        this.#sent.set(server.id, (this.#sent.get(server.id) ?? 0) + 1)
        bus.publish({ type: "mail-sent", device: analyzer, handler, smtp: server.id, to: [...to], subject, server: where, error: null, response: String(info.response) })
      },
      (cause: unknown) => {
        const reason = cause instanceof Error ? cause.message : String(cause)
        bus.publish({
          type: "mail-sent",
          device: analyzer,
          handler,
          smtp: server.id,
          to: [...to],
          subject,
          server: where,
          error: `the alert mail of event handler ${handler} could not be sent through ${where}: ${reason}`,
          response: null
        })
      }
    ).finally(() => transport.close())
  }
}
