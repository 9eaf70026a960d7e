/**
 * An emulated Fortinet Registry's settings in a scenario, as Effect Schema fields (the only source
 * of its type): the version each management extension application it offers starts at, how often
 * new versions come out, and which applications are down.
 */
import * as Schema from "effect/Schema"
import { Version } from "../../protocols/fortiguard/objects.ts"
import type { SpecOf } from "../kind.ts"
import { connectionLimitFieldsOf, Duration, orNull, settingsStruct, withDefault } from "../settings.ts"

/** The applications the registry offers (the names `config system docker` enables), with the version each starts at by default. */
export const MEA_APPS = {
  fortiwlm: "8.6.3",
  fortisoar: "7.4.1",
  fortisigconverter: "7.2.2"
} as const

export type MeaApp = keyof typeof MEA_APPS

export const meaAppNames = Object.keys(MEA_APPS) as ReadonlyArray<MeaApp>

export const fortinetRegistrySettings = {
  /** The version of each application when the registry first starts. */
  versions: withDefault(settingsStruct({
    fortiwlm: withDefault(Version, MEA_APPS.fortiwlm),
    fortisoar: withDefault(Version, MEA_APPS.fortisoar),
    fortisigconverter: withDefault(Version, MEA_APPS.fortisigconverter)
  }), {}),
  /** Lab time between two versions of every application (absent: versions stay). */
  releaseInterval: orNull(Duration),
  /** Applications that answer 503 Service Unavailable. */
  unavailable: withDefault(Schema.Array(Schema.Literals(meaAppNames)), []),
  /** The connection rules of TCP/443 and TCP/4443 each (docs/errors.md): 64 connections at once by default. */
  ...connectionLimitFieldsOf(64)
}

export type FortinetRegistrySpec = SpecOf<"fortinet-registry", typeof fortinetRegistrySettings, false>
