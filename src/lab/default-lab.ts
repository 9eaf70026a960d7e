/**
 * The embedded default lab that `fazlab up` (and `npm start`) runs when given no file: one
 * FortiAnalyzer, two FortiGates and a FortiClient, all sending syslog, so a newcomer sees
 * every framing the analyzer speaks at once.
 */
export const DEFAULT_LAB_FILE = "<embedded default lab>"

export const DEFAULT_LAB_YAML = `
name: default-lab
description: One FortiAnalyzer, two FortiGates and a FortiClient, all sending syslog.
devices:
  faz-1:
    kind: fortianalyzer
    serial: FAZ-VM0000000001
  fgt-1:
    kind: fortigate
    serial: FGT60FTK20000001
    # FortiOS default: UDP/514, "default" format (PRI + key=value), facility local7.
    syslog: { server: faz-1, mode: udp, rate: 20/s }
  fgt-2:
    kind: fortigate
    serial: FGT60FTK20000002
    # Reliable syslog: TCP/514 with RFC 6587 octet counting, RFC 5424 headers.
    syslog: { server: faz-1, mode: reliable, format: rfc5424, rate: 10/s }
  fct-1:
    kind: forticlient
    serial: FCT8001000000001
    hostname: laptop-7
    syslog: { server: faz-1, mode: reliable, rate: 2/s }
`
