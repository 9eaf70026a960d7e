/**
 * What a device kind is to fazlab: one descriptor, exported by the kind's folder
 * (`src/devices/<kind>/kind.ts`) and listed once in `registry.ts`.
 *
 * The descriptor says everything the rest of fazlab needs to know of a kind, so nothing else
 * names it: its settings as Effect Schema fields (the scenario schema, the JSON Schema and the
 * device's TypeScript type all come from them), its serial prefix, the documented ports it
 * listens on (tied to catalog rows by id), the other devices its settings name (the loader checks
 * them; the lab starts a device after the devices it dials), the files its settings name (the
 * loader reads and checks them), and how to build the running device from its settings and a
 * `DeviceContext` alone.
 */
import type * as Schema from "effect/Schema"
import type { PortKey } from "../events/events.ts"
import type { Device, DeviceContext } from "./device.ts"
import type { HaGroupConfig } from "./fortianalyzer/ha-group.ts"

/** A device as the scenario decodes it: its kind, its serial and its kind's settings. */
export interface DeviceSpec {
  readonly kind: string
  readonly serial: string
  /** Only kinds with `hostname: true`; defaults to the device's id. */
  readonly hostname?: string
}

/** The decoded spec of a kind: `kind`, `serial`, `hostname` (when it has one) and its settings. */
export type SpecOf<Name extends string, Fields extends Schema.Struct.Fields, Named extends boolean> =
  & { readonly kind: Name; readonly serial: string }
  & (Named extends true ? { readonly hostname: string } : unknown)
  & Schema.Struct.Type<Fields>

/**
 * A name a device's settings give for another device: the loader checks that it names a device
 * of `kind` (or an HA group, or a host outside the lab); the lab starts the named device first.
 */
export interface Reference {
  /** Where the name is in the device's settings, in decoded (camelCase) names: ["syslog", "server"]. */
  readonly path: ReadonlyArray<string | number>
  readonly name: string
  /** The kind a device named here must be. */
  readonly kind: string
  /** Whether an HA group (its virtual IP) may be named here. */
  readonly group: boolean
  /** Hosts outside the lab, as the error sentence suggests them: "siem.example.com or 10.0.0.5:514". */
  readonly outside: string
  /** Set when the device may not name itself here: what the error sentence expects instead. */
  readonly notSelf?: string
}

/**
 * A file a device's settings name (a FortiGate's `replay`), relative to the scenario file's
 * folder: the loader reads it and checks it before anything starts, and hands the device its
 * absolute path in the setting's place.
 */
export interface FileSetting {
  /** Where the name is in the device's settings, in decoded (camelCase) names: ["replay"]. */
  readonly path: ReadonlyArray<string>
  readonly file: string
  /** What the file must be, as the error sentence expects it: "a readable log file, one log a line". */
  readonly expected: string
  /** What is wrong with the file's text, in words; null when nothing is. */
  readonly check: (text: string) => string | null
}

/** A listener the lab's port plan must find a place for before the lab starts (`--port-base auto`). */
export interface PlannedPort {
  /** The port plan's name of the address: a device id, or an HA group's name (its virtual IP). */
  readonly at: string
  readonly port: PortKey
}

/** What building a device takes: its settings, the lab's shared services, and its HA group. */
export interface BuildInput<Spec extends DeviceSpec> {
  readonly id: string
  readonly spec: Spec
  readonly context: DeviceContext
  /** The HA group (the scenario's `ha:`) this device is a member of, or null. */
  readonly group: HaGroupConfig | null
  /** The names a device of the lab is known by (its id, serial and hostname); a name of no lab device as it is. */
  readonly aliases: (name: string) => ReadonlyArray<string>
  /** The lab device whose kind emulates a catalog row (the first in file order), or null: who serves a vendor name. */
  readonly peerOfRow: (row: string) => string | null
}

export interface DeviceKind<Spec extends DeviceSpec = DeviceSpec> {
  /** `kind:` in a scenario file. */
  readonly name: string
  /** Settings beside `kind`, `serial` and `hostname`, in decoded names; file keys are their kebab-case (`fileKey`). */
  readonly settings: Schema.Struct.Fields
  /** Whether devices of this kind have a `hostname` (the name their logs carry); it defaults to the id. */
  readonly hostname: boolean
  /** Default serials are this prefix and a number of 10 digits, counted per kind in file order. */
  readonly serialPrefix: string
  /** The catalog rows (`src/catalog/vendor-table.ts` ids) whose flows this kind emulates. */
  readonly catalogRows: ReadonlyArray<string>
  /** The documented ports a device of this kind binds, and where (HA members bind on their group's address). */
  listens(id: string, group: HaGroupConfig | null): ReadonlyArray<PlannedPort>
  /** The other devices this device's settings name. */
  references(spec: Spec): ReadonlyArray<Reference>
  /** The files this device's settings name. */
  files(spec: Spec): ReadonlyArray<FileSetting>
  /** Whether the lab starts it with the others (false: only a `start` step or command does). */
  autostart(spec: Spec): boolean
  build(input: BuildInput<Spec>): Device
  /** Narrows a decoded device to this kind's spec. */
  is(spec: DeviceSpec): spec is Spec
}

/** A descriptor from its parts: `is` compares the kind's name; `listens` defaults to `ports` on the device's own address. */
export const defineKind = <const Name extends string, const Fields extends Schema.Struct.Fields, const Named extends boolean>(
  definition: {
    readonly name: Name
    readonly settings: Fields
    readonly hostname: Named
    readonly serialPrefix: string
    readonly catalogRows: ReadonlyArray<string>
    /** The documented ports the device binds on its own address. */
    readonly ports?: ReadonlyArray<PortKey>
    readonly listens?: (id: string, group: HaGroupConfig | null) => ReadonlyArray<PlannedPort>
    readonly references: (spec: SpecOf<Name, Fields, Named>) => ReadonlyArray<Reference>
    readonly files?: (spec: SpecOf<Name, Fields, Named>) => ReadonlyArray<FileSetting>
    readonly autostart: (spec: SpecOf<Name, Fields, Named>) => boolean
    readonly build: (input: BuildInput<SpecOf<Name, Fields, Named>>) => Device
  }
): DeviceKind<SpecOf<Name, Fields, Named>> => {
  const ports = definition.ports ?? []
  return {
    name: definition.name,
    settings: definition.settings,
    hostname: definition.hostname,
    serialPrefix: definition.serialPrefix,
    catalogRows: definition.catalogRows,
    listens: definition.listens ?? ((id) => ports.map((port) => ({ at: id, port }))),
    references: definition.references,
    files: definition.files ?? (() => []),
    autostart: definition.autostart,
    build: definition.build,
    is: (spec): spec is SpecOf<Name, Fields, Named> => spec.kind === definition.name
  }
}

/** A reference for each name given (a null setting names nothing). */
export const referencesTo = (
  kind: string,
  outside: string,
  group: boolean,
  entries: ReadonlyArray<readonly [path: ReadonlyArray<string | number>, name: string | null | undefined]>
): ReadonlyArray<Reference> =>
  entries.flatMap(([path, name]) => (name === null || name === undefined ? [] : [{ path, name, kind, group, outside }]))
