/**
 * An NTP server's settings in a scenario, as Effect Schema fields (the only source of its type):
 * fazlab's names, since the server stands for any NTP server the analyzer is given.
 */
import * as Schema from "effect/Schema"
import type { SpecOf } from "../kind.ts"
import { wholeNumber, withDefault } from "../settings.ts"

export const ntpServerSettings = {
  /** 1: it is its own reference ("LOCL"); 2-15: it says it syncs from another server. */
  stratum: withDefault(wholeNumber(1, 15), 2),
  /** Milliseconds its clock is ahead of this machine's (negative: behind): the offset an analyzer reports. */
  clockOffset: withDefault(Schema.Number.check(Schema.isInt({ expected: "a whole number of milliseconds, negative for behind" })), 0)
}

export type NtpServerSpec = SpecOf<"ntp-server", typeof ntpServerSettings, false>
