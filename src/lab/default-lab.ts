/**
 * The embedded default lab that `fazlab up` (and `npm start`) runs when given no file: a
 * FortiAnalyzer; two FortiGates logging over OFTP (one authorized by its pre-shared key, one
 * waiting in the Unauthorized devices list for `fazlab ctl authorize`); one FortiGate keeping
 * plain syslog on the same TCP/514; a FortiManager the FortiGates register to over FGFM, which
 * logs to the analyzer too; and a FortiClient. A newcomer sees every protocol at once.
 */
export const DEFAULT_LAB_FILE = "<embedded default lab>"

export const DEFAULT_LAB_YAML = `
name: default-lab
description: A FortiAnalyzer, FortiGates over OFTP and syslog, a FortiManager and a FortiClient.
devices:
  faz-1:
    kind: fortianalyzer
    serial: FAZ-VM0000000001
    oftp: { psk: lab-secret }
  fgt-1:
    kind: fortigate
    serial: FGT60FTK20000001
    # OFTP over TLS on TCP/514, authorized at once by its pre-shared key.
    fortianalyzer: { server: faz-1, serial: FAZ-VM0000000001, preshared-key: lab-secret, rate: 20/s }
    central-management: { fmg: fmg-1 }
  fgt-2:
    kind: fortigate
    serial: FGT60FTK20000002
    # OFTP without the key: unauthorized until "fazlab ctl authorize FGT60FTK20000002".
    fortianalyzer: { server: faz-1, serial: FAZ-VM0000000001, rate: 10/s }
    central-management: { fmg: fmg-1 }
  fgt-3:
    kind: fortigate
    serial: FGT60FTK20000003
    # Reliable syslog on the same TCP/514: RFC 6587 octet counting, RFC 5424 headers.
    syslog: { server: faz-1, mode: reliable, format: rfc5424, rate: 10/s }
  fmg-1:
    kind: fortimanager
    serial: FMG-VM0000000001
    fortianalyzer: { server: faz-1, serial: FAZ-VM0000000001, preshared-key: lab-secret, rate: 1/s }
  fct-1:
    kind: forticlient
    serial: FCT8001000000001
    hostname: laptop-7
    syslog: { server: faz-1, mode: reliable, rate: 2/s }
`
