/**
 * A DNS server's settings in a scenario, as Effect Schema fields (the only source of its type):
 * fazlab's names, since the server stands for any resolver the analyzer is given.
 */
import * as Schema from "effect/Schema"
import type { SpecOf } from "../kind.ts"
import { connectionLimitFieldsOf, NonEmpty, wholeNumber, withDefault } from "../settings.ts"

const ipv4 = Schema.String.check(Schema.isPattern(/^(?:\d{1,3}\.){3}\d{1,3}$/u, { expected: "an IPv4 address such as \"127.0.0.1\"" }))

export const dnsServerSettings = {
  /** The lab's names are `<device id>.<domain>`. */
  domain: withDefault(NonEmpty, "fazlab.lab"),
  /** A name (a vendor FQDN or any other) to a lab device id or an IPv4 address. */
  records: withDefault(Schema.Record(NonEmpty, NonEmpty), {}),
  /** What a vendor FQDN without a record answers. */
  defaultAddress: withDefault(ipv4, "127.0.0.1"),
  /** Seconds. */
  ttl: withDefault(wholeNumber(0, 86_400), 60),
  /** TCP/53's connection rules (docs/errors.md): 256 connections at once by default. */
  ...connectionLimitFieldsOf(256)
}

export type DnsServerSpec = SpecOf<"dns-server", typeof dnsServerSettings, false>
