/**
 * Where a sender's `server` is: a device (or HA group) of the lab by name, answered by the port
 * plan at the moment of asking (listeners move), or `host` / `host:port` / `[v6]:port` outside
 * the lab, with the documented port when none is given.
 */
import type { PortKey } from "../events/events.ts"
import { numberOf, type PortPlan } from "./port-plan.ts"

export const resolveServer = (plan: PortPlan, server: string, port: PortKey): { readonly address: string; readonly actualPort: number } => {
  if (plan.hasDevice(server)) return plan.resolve(server, port)
  const hostPort = /^\[(.+)\]:(\d+)$/.exec(server) ?? /^([^:]+):(\d+)$/.exec(server)
  return hostPort === null
    ? { address: server, actualPort: numberOf(port) }
    : { address: hostPort[1] as string, actualPort: Number(hostPort[2]) }
}
