/**
 * What a busy FortiGate's log stream is made of: mostly forward traffic, some local traffic,
 * UTM and event logs, or only the kinds a lab asks for. Seeded, so runs repeat.
 */
import type { LogKind } from "../../protocols/fortios/logs.ts"

/** Weights of each log kind in the default mix. */
const REALISTIC_MIX: ReadonlyArray<readonly [LogKind, number]> = [
  ["traffic-forward", 60],
  ["traffic-local", 10],
  ["utm-webfilter", 6],
  ["utm-app-ctrl", 6],
  ["utm-ips", 3],
  ["utm-virus", 1],
  ["event-system", 8],
  ["event-vpn", 3],
  ["event-user", 3]
]

const TOTAL_WEIGHT = REALISTIC_MIX.reduce((sum, [, weight]) => sum + weight, 0)

export const pickKind = (random: () => number, kinds: ReadonlyArray<LogKind> | null): LogKind => {
  if (kinds !== null && kinds.length > 0) return kinds[Math.floor(random() * kinds.length)] ?? "traffic-forward"
  let roll = random() * TOTAL_WEIGHT
  for (const [kind, weight] of REALISTIC_MIX) {
    roll -= weight
    if (roll < 0) return kind
  }
  return "traffic-forward"
}
