/**
 * The FortiGuard kind: an emulated FortiGuard Distribution Network, the peer of the vendor
 * table's FortiGuard rows (AV/IPS, licensing and GeoIP on TCP/443; sprite map and web GUI from
 * productapi and filestore; the Google Maps licence from mapserver). It serves HTTPS on TCP/443
 * under every FortiGuard name of the vendor table (its certificate's SANs), names no other device,
 * and the lab's DNS answers those names with its address (`src/devices/dns-server/`).
 */
import { vendorHostNames } from "../../catalog/catalog.ts"
import { FDS_PREFIX } from "../../protocols/fortiguard/objects.ts"
import { defineKind } from "../kind.ts"
import { ObjectServer } from "../shared/object-server.ts"
import { FORTIGUARD_OBJECTS, fortiguardObjectNames, fortiguardSettings } from "./settings.ts"

const ROWS = ["out-fortiguard-services", "out-fortiguard-sprite-map-web-gui", "out-fortiguard-google-maps-license"]

/** Bytes of each emulated object: an AV/IPS package is the largest. */
const SIZES: Readonly<Record<keyof typeof FORTIGUARD_OBJECTS, number>> = {
  "av-ips": 65_536,
  "fct-av-ips": 32_768,
  geoip: 16_384,
  license: 512,
  "sprite-map": 8192,
  "web-gui": 32_768,
  "google-maps-license": 512
}

export const fortiguard = defineKind({
  name: "fortiguard",
  settings: fortiguardSettings,
  hostname: false,
  serialPrefix: "FDS",
  catalogRows: ROWS,
  ports: ["tcp/443"],
  references: () => [],
  autostart: () => true,
  build: ({ id, spec, context }) => {
    const { versions } = spec
    const version: Readonly<Record<keyof typeof FORTIGUARD_OBJECTS, string>> = {
      "av-ips": versions.avIps,
      "fct-av-ips": versions.fctAvIps,
      geoip: versions.geoip,
      license: versions.license,
      "sprite-map": versions.spriteMap,
      "web-gui": versions.webGui,
      "google-maps-license": versions.googleMapsLicense
    }
    return new ObjectServer(id, {
      kind: "fortiguard",
      serial: spec.serial,
      ports: ["tcp/443"],
      names: vendorHostNames().filter(({ row }) => ROWS.includes(row)).map(({ name }) => name),
      prefix: FDS_PREFIX,
      objects: new Map(fortiguardObjectNames.map((object) => [object, { version: version[object], size: SIZES[object] }])),
      releaseInterval: spec.releaseInterval,
      unavailable: new Set(spec.unavailable),
      connectionLimits: spec
    }, context)
  }
})
