/**
 * Which lab devices play a role of a flow. A role is a device kind's name (fortianalyzer,
 * fortigate ...) or a role the catalog names that is no kind (smtp-server, admin-pc ...): a
 * device plays such a role when its kind lists one of the flow's catalog rows and it does not
 * play the other side of the flow (the analyzer lists the SSH row it listens on, so it does not
 * play the admin PC that dials it).
 */
import { registry } from "../devices/registry.ts"
import type { Flow } from "./flows.ts"

const kindNames = new Set(registry.names)

/** Whether a device of `kind` plays `role` in `flow`, whose other side is `other`. */
export const playsRole = (kind: string, role: string, other: string, flow: Pick<Flow, "rows">): boolean =>
  kind === role ||
  (!kindNames.has(role) && kind !== other &&
    flow.rows.some((row) => registry.kinds.find((candidate) => candidate.name === kind)?.catalogRows.includes(row.id) === true))

/** The devices that dial in `flow`. */
export const sourcesOf = <D extends { readonly kind: string }>(devices: ReadonlyArray<D>, flow: Pick<Flow, "rows" | "from" | "to">): ReadonlyArray<D> =>
  devices.filter((device) => playsRole(device.kind, flow.from, flow.to, flow))

/** The devices that listen in `flow`. */
export const destinationsOf = <D extends { readonly kind: string }>(devices: ReadonlyArray<D>, flow: Pick<Flow, "rows" | "from" | "to">): ReadonlyArray<D> =>
  devices.filter((device) => playsRole(device.kind, flow.to, flow.from, flow))
