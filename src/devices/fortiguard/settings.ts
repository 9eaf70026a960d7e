/**
 * An emulated FortiGuard's settings in a scenario, as Effect Schema fields (the only source of
 * its type): the version each of its objects starts at (fazlab's object names, the paths of
 * docs/protocols/fortiguard.md), how often new versions come out, and which objects are down.
 */
import * as Schema from "effect/Schema"
import { Version } from "../../protocols/fortiguard/objects.ts"
import type { SpecOf } from "../kind.ts"
import { connectionLimitFieldsOf, Duration, orNull, settingsStruct, withDefault } from "../settings.ts"

/** The objects FortiGuard serves, by file key, with the version each starts at by default. */
export const FORTIGUARD_OBJECTS = {
  "av-ips": "92.01234",
  "fct-av-ips": "92.01234",
  geoip: "3.00150",
  license: "1.00007",
  "sprite-map": "1.00042",
  "web-gui": "7.04002",
  "google-maps-license": "1.00003"
} as const

export type FortiGuardObject = keyof typeof FORTIGUARD_OBJECTS

export const fortiguardObjectNames = Object.keys(FORTIGUARD_OBJECTS) as ReadonlyArray<FortiGuardObject>

export const fortiguardSettings = {
  /** The version of each object when the server first starts. */
  versions: withDefault(settingsStruct({
    avIps: withDefault(Version, FORTIGUARD_OBJECTS["av-ips"]),
    fctAvIps: withDefault(Version, FORTIGUARD_OBJECTS["fct-av-ips"]),
    geoip: withDefault(Version, FORTIGUARD_OBJECTS.geoip),
    license: withDefault(Version, FORTIGUARD_OBJECTS.license),
    spriteMap: withDefault(Version, FORTIGUARD_OBJECTS["sprite-map"]),
    webGui: withDefault(Version, FORTIGUARD_OBJECTS["web-gui"]),
    googleMapsLicense: withDefault(Version, FORTIGUARD_OBJECTS["google-maps-license"])
  }), {}),
  /** Lab time between two versions of every object (absent: versions stay). */
  releaseInterval: orNull(Duration),
  /** Objects that answer 503 Service Unavailable (a FortiGuard outage). */
  unavailable: withDefault(Schema.Array(Schema.Literals(fortiguardObjectNames)), []),
  /** TCP/443's connection rules (docs/errors.md): 256 connections at once by default. */
  ...connectionLimitFieldsOf(256)
}

export type FortiGuardSpec = SpecOf<"fortiguard", typeof fortiguardSettings, false>
