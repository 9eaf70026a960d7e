/**
 * `fazlab probe --target HOST`: the flows checked against one host from the process this runs
 * in. Against a real host only the checks that need no emulated peer on the far side run as they
 * are (TCP connect, TLS handshake, HTTP(S) answer, SSH banner and key exchange, SMTP greeting,
 * DNS and NTP answers); the others are reduced, and each flow says what it could not check. With
 * `--fazlab-peer` (the re-exec inside a lab's namespace, DESIGN-12 contract 3) the far side is a
 * fazlab device: every check runs in full, and syslog reports `sent` with its token for the
 * parent to confirm.
 */
import { type CheckTarget, reduceForRealHost, runCheck, checkOf } from "./checks.ts"
import type { Expectations } from "./expectations.ts"
import { type Flow, listenerPortKey } from "./flows.ts"
import { flowResult, inPool } from "./matrix.ts"
import { type ProbeReport, summarize } from "./report.ts"

export interface TargetSettings {
  readonly host: string
  /** Where a documented port really is on the host ("tcp/22" -> 2222); the documented port otherwise. */
  readonly ports: ReadonlyMap<string, number>
  /** The far side is a fazlab device: full checks, syslog left for the parent to confirm. */
  readonly fazlabPeer: boolean
  readonly timeoutMs: number
  readonly concurrency: number
  readonly expectations: Expectations
}

export const probeTarget = async (flows: ReadonlyArray<Flow>, settings: TargetSettings): Promise<ProbeReport> => {
  const started = Date.now()
  const results = await inPool(flows, settings.concurrency, async (flow) => {
    const expected = settings.expectations.of(flow.id)
    const skip = (reason: string) => flowResult(flow, expected, "-", [], 0, reason)
    if (flow.host !== null) return skip(`an Internet URL (${flow.host}); --target checks ports of ${settings.host}`)
    const full = checkOf(flow)
    if (full === null) return skip(`no check for ${flow.transport.toUpperCase()}/${flow.port} that needs no emulated peer on the far side`)
    const reduced = settings.fazlabPeer ? { check: full, partial: null } : reduceForRealHost(full, flow)
    if ("reason" in reduced) return skip(reduced.reason)
    const began = Date.now()
    const target: CheckTarget = { host: settings.host, port: settings.ports.get(listenerPortKey(flow)) ?? flow.port, timeoutMs: settings.timeoutMs }
    const attempt = await runCheck(reduced.check, flow, target)
    return flowResult(flow, expected, "this machine", [{
      device: null,
      address: target.host,
      port: target.port,
      outcome: attempt.outcome,
      detail: reduced.partial === null ? attempt.detail : `${attempt.detail} (${reduced.partial})`,
      ...(attempt.token === undefined ? {} : { token: attempt.token })
    }], Date.now() - began)
  })
  return { probe: 1, lab: null, target: settings.host, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, flows: results, summary: summarize(results) }
}
