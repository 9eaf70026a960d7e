/**
 * A syslog header as the RFC 5424 and RFC 3164 readers give it (`rfc5424.ts`, `rfc3164.ts`),
 * its parts (timestamp, structured data), and what those readers and `message.ts` share: the
 * malformed verdict and the characters the grammars name.
 */
import type { MalformedReason } from "../../events/events.ts"

/** One RFC 5424 SD-PARAM, its value with the `\"`, `\\` and `\]` escapes undone. */
export interface SdParam {
  readonly name: string
  readonly value: string
}

/** One RFC 5424 SD-ELEMENT: its SD-ID and its parameters in the order sent (a name may repeat). */
export interface SdElement {
  readonly id: string
  readonly params: ReadonlyArray<SdParam>
}

/** A timestamp as an instant: milliseconds since the epoch, the microseconds beyond them, the offset sent. */
export interface SyslogTime {
  /** Milliseconds since the epoch, rounded down. */
  readonly ms: number
  /** Microseconds past `ms`: 0-999. */
  readonly us: number
  /** The offset the timestamp was written in, minutes east of UTC; null when it had none (read as UTC). */
  readonly offset: number | null
}

/** A syslog header's fields, as `parseSyslog` gives them. */
export interface SyslogHeaderFields {
  /** As written: RFC 5424 `TIMESTAMP`, RFC 3164 `Mmm dd hh:mm:ss [yyyy]` or RFC 3339, FortiOS `date`T`time` plus `tz`. */
  readonly timestamp: string | null
  /** `timestamp` as an instant; null without timestamp or when FortiOS' date and time are no date. */
  readonly time: SyslogTime | null
  /** RFC header HOSTNAME, or FortiOS `devname`. */
  readonly hostname: string | null
  /** RFC 5424 APP-NAME, RFC 3164 TAG. */
  readonly appName: string | null
  /** RFC 5424 PROCID, RFC 3164 `[PID]`. */
  readonly procId: string | null
  readonly msgId: string | null
  /** RFC 5424 STRUCTURED-DATA, escapes undone; null for the NILVALUE and in the other formats. */
  readonly structuredData: ReadonlyArray<SdElement> | null
  /** The RFC 5424 MSG started with a BOM (and so is UTF-8). */
  readonly bom: boolean
}

/** A header read from a message: everything but the MSG, which starts at `msgStart`. */
export interface Header extends SyslogHeaderFields {
  readonly ok: true
  readonly format: "rfc5424" | "rfc3164"
  /** Where the MSG starts in the text, after any BOM. */
  readonly msgStart: number
}

export interface MalformedSyslog {
  readonly ok: false
  readonly reason: MalformedReason
  readonly detail: string
}

export const SP = 0x20
export const COLON = 0x3a
export const DASH = 0x2d
export const EQUALS = 0x3d

export const malformed = (reason: MalformedReason, detail: string): MalformedSyslog => ({ ok: false, reason, detail })

export const isDigit = (code: number): boolean => code >= 0x30 && code <= 0x39

export const isPrintUsAscii = (code: number): boolean => code >= 33 && code <= 126

/** Control characters shown as `\xNN` in a detail sentence. */
export const printable = (text: string): string => text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
