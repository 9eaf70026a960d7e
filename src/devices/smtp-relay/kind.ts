/**
 * The SMTP relay kind: the peer of the vendor table's "Alert email · TCP/25" row. It listens on
 * TCP/25, names no other device, and keeps the mails it receives.
 */
import { defineKind } from "../kind.ts"
import { SMTP_PORT, SmtpRelay } from "./relay.ts"
import { smtpRelaySettings } from "./settings.ts"

export const smtpRelay = defineKind({
  name: "smtp-relay",
  settings: smtpRelaySettings,
  hostname: true,
  serialPrefix: "SMTP",
  catalogRows: ["out-non-fortinet-alert-email"],
  ports: [SMTP_PORT],
  references: () => [],
  autostart: () => true,
  build: ({ id, spec, context }) => new SmtpRelay(id, spec, context)
})
