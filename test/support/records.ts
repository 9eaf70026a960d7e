/**
 * Log records as the analyzer's intakes hand them to the store, for store and query tests: a
 * FortiOS traffic log with every column set, any of which a test overrides.
 */
import type { LogRecordInput, SyslogHeaderView } from "../../src/store/log-record.ts"

/** A fixed receive time (2026-11-03), so tests do not depend on the clock. */
export const T0 = 1_793_700_000_000

/** A FortiOS traffic log of device `fgt-1` received over UDP at T0; `overrides` sets any column. */
export const logRecord = (overrides: Partial<LogRecordInput> = {}): LogRecordInput => ({
  receivedAt: T0,
  transport: "udp",
  peer: "127.0.0.1:40312",
  format: "fortios",
  facility: 23,
  severity: 5,
  device: "fgt-1",
  devid: null,
  logid: "0000000013",
  type: "traffic",
  subtype: "forward",
  level: "notice",
  eventtime: null,
  seq: null,
  raw: `devname="${overrides.device ?? "fgt-1"}" type="traffic"`,
  fields: null,
  ...overrides
})

/** The header fields of a stored log that did not come as syslog (OFTP, HTTPS): all null. */
export const NO_SYSLOG_HEADER: SyslogHeaderView = {
  timestamp: null,
  time: null,
  offset: null,
  hostname: null,
  appName: null,
  procId: null,
  msgId: null,
  structuredData: null,
  message: null,
  messageBytes: null,
  bom: false
}
