/**
 * An SMTP relay's settings in a scenario, as Effect Schema fields (the only source of its type):
 * fazlab's names, since the relay stands for any mail server.
 */
import type { SpecOf } from "../kind.ts"
import { wholeNumber, withDefault } from "../settings.ts"

export const smtpRelaySettings = {
  /** Mails over this many bytes are refused with 552 (advertised as SIZE). */
  maxMessageBytes: withDefault(wholeNumber(1024, 104_857_600), 10_485_760),
  /** SMTP sessions at once. */
  maxConnections: withDefault(wholeNumber(1, 100_000), 100)
}

export type SmtpRelaySpec = SpecOf<"smtp-relay", typeof smtpRelaySettings, true>
