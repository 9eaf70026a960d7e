/**
 * The emulated FortiClient endpoint: sends its endpoint logs to a syslog server over UDP/514
 * or TCP/514 (`mode: udp | reliable`), identified by its hostname and FCT serial.
 */
import { formatKeyValues } from "../../protocols/fortios/kv.ts"
import { makeForticlientLog } from "../../protocols/forticlient/logs.ts"
import { SEVERITIES } from "../../protocols/syslog/encode.ts"
import type { DeviceContext } from "../device.ts"
import { seededRandom } from "../shared/random.ts"
import { SyslogSender, type SyslogSenderSettings } from "../shared/syslog-sender.ts"

export interface ForticlientSettings {
  readonly serial: string
  readonly hostname: string
  readonly syslog: SyslogSenderSettings
}

export const createForticlient = (id: string, settings: ForticlientSettings, context: DeviceContext): SyslogSender => {
  const random = seededRandom(settings.serial)
  return new SyslogSender({
    id,
    kind: "forticlient",
    hostname: settings.hostname,
    serial: settings.serial,
    settings: settings.syslog,
    context,
    makeLog: (_seq, now) => {
      const log = makeForticlientLog({ hostname: settings.hostname, serial: settings.serial, user: "alice", now, random })
      return { message: formatKeyValues(log.fields), severity: SEVERITIES[log.level as keyof typeof SEVERITIES] ?? 6 }
    }
  })
}
