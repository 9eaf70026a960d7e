/**
 * The embedded default lab that `fazlab up` (and `npm start`) runs when given no file: an HA
 * pair of FortiAnalyzers behind a virtual IP ("lab"); two FortiGates logging to it over OFTP (one
 * authorized by its pre-shared key, one waiting in the Unauthorized devices list for
 * `fazlab ctl authorize`); one FortiGate keeping plain syslog on the same TCP/514; a FortiManager
 * the FortiGates register to over FGFM, which logs to the cluster too; and a FortiClient. A
 * newcomer sees every protocol at once, and can kill the primary (`k` on faz-a in the UI) to
 * watch TCP/5199 and the virtual IP move to faz-b.
 */
export const DEFAULT_LAB_FILE = "<embedded default lab>"

export const DEFAULT_LAB_YAML = `
name: default-lab
description: An HA pair of FortiAnalyzers behind a virtual IP, FortiGates over OFTP and syslog, a FortiManager and a FortiClient.
devices:
  faz-a:
    kind: fortianalyzer
    serial: FAZ-VM0000000001
    oftp: { psk: lab-secret }
    ha: { priority: 120 }
  faz-b:
    kind: fortianalyzer
    serial: FAZ-VM0000000002
    oftp: { psk: lab-secret }
  fgt-1:
    kind: fortigate
    serial: FGT60FTK20000001
    # OFTP over TLS on TCP/514 of the cluster's virtual IP, authorized at once by its pre-shared key.
    fortianalyzer: { server: lab, serial: [FAZ-VM0000000001, FAZ-VM0000000002], preshared-key: lab-secret, rate: 20/s }
    central-management: { fmg: fmg-1 }
  fgt-2:
    kind: fortigate
    serial: FGT60FTK20000002
    # OFTP without the key: unauthorized until "fazlab ctl authorize FGT60FTK20000002".
    fortianalyzer: { server: lab, serial: [FAZ-VM0000000001, FAZ-VM0000000002], rate: 10/s }
    central-management: { fmg: fmg-1 }
  fgt-3:
    kind: fortigate
    serial: FGT60FTK20000003
    # Reliable syslog on the same TCP/514: RFC 6587 octet counting, RFC 5424 headers.
    syslog: { server: lab, mode: reliable, format: rfc5424, rate: 10/s }
  fmg-1:
    kind: fortimanager
    serial: FMG-VM0000000001
    fortianalyzer: { server: lab, serial: [FAZ-VM0000000001, FAZ-VM0000000002], preshared-key: lab-secret, rate: 1/s }
  fct-1:
    kind: forticlient
    serial: FCT8001000000001
    hostname: laptop-7
    syslog: { server: lab, mode: reliable, rate: 2/s }
ha:
  lab:
    members: [faz-a, faz-b]
    group-id: 1
    hb-interval: 1s
    hb-lost-threshold: 3
`
