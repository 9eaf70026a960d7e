/**
 * fazlab's emulated update protocol of FortiGuard (the FortiGuard Distribution Network) and of
 * the Fortinet Registry, pure: paths, the manifest an object is described by, version order, and
 * the bytes of an emulated object. Fortinet does not publish these exchanges; this is fazlab's own
 * shape (docs/protocols/fortiguard.md), served over real HTTPS:
 *
 * - `GET <prefix>/manifest/<object>` → 200 JSON `{ object, version, size, sha256 }`;
 * - `GET <prefix>/package/<object>/<version>` → 200 the object's bytes (the current version only);
 * - anything else → 4xx/5xx with a JSON `{ error }` sentence.
 *
 * FortiGuard's prefix is `/fds/v1`, the registry's `/mea/v1`. An object's bytes are derived from
 * its name and version (SHA-256 in counter mode), so a client can check what it downloaded and a
 * test can predict it.
 */
import * as crypto from "node:crypto"
import * as Schema from "effect/Schema"

/** FortiGuard's objects and the registry's applications, as the paths name them. */
export const FDS_PREFIX = "/fds/v1"
export const MEA_PREFIX = "/mea/v1"

/** "92.01234", "7.4.2": dot-separated whole numbers, compared part by part. */
export const VERSION_PATTERN = /^\d{1,9}(?:\.\d{1,9}){0,3}$/u

export const Version = Schema.String.check(Schema.isPattern(VERSION_PATTERN, { expected: "a version of dot-separated whole numbers such as \"92.01234\"" }))

/** What a server says of an object, and what a client checks its download against. */
export const Manifest = Schema.Struct({
  object: Schema.NonEmptyString,
  version: Version,
  size: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  sha256: Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/u))
})
export type Manifest = typeof Manifest.Type

export const decodeManifest = Schema.decodeUnknownResult(Schema.fromJsonString(Manifest))

/** Negative when `a` is older than `b`, 0 when equal, positive when newer ("92.10" > "92.9"). */
export const compareVersions = (a: string, b: string): number => {
  const left = a.split(".").map(Number)
  const right = b.split(".").map(Number)
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0)
    if (difference !== 0) return difference
  }
  return 0
}

/** `version` with its last part raised by `steps`, its width kept ("92.01234" + 2 → "92.01236"). */
export const laterVersion = (version: string, steps: number): string => {
  const parts = version.split(".")
  const last = parts.at(-1) ?? "0"
  const raised = String(Number(last) + steps).padStart(last.length, "0")
  return [...parts.slice(0, -1), raised].join(".")
}

/** The bytes of an emulated object: `size` bytes of SHA-256 blocks over "<object> <version> <n>". */
export const objectBytes = (object: string, version: string, size: number): Buffer => {
  const blocks: Array<Buffer> = []
  for (let n = 0; n * 32 < size; n++) blocks.push(crypto.createHash("sha256").update(`${object} ${version} ${n}`).digest())
  return Buffer.concat(blocks).subarray(0, size)
}

/** The manifest of an object and its bytes. */
export const describeObject = (object: string, version: string, size: number): { readonly manifest: Manifest; readonly bytes: Buffer } => {
  const bytes = objectBytes(object, version, size)
  return { manifest: { object, version, size, sha256: crypto.createHash("sha256").update(bytes).digest("hex") }, bytes }
}

export const manifestPath = (prefix: string, object: string): string => `${prefix}/manifest/${object}`
export const packagePath = (prefix: string, object: string, version: string): string => `${prefix}/package/${object}/${version}`

/** What a request path asks for under `prefix`, or null when it is not one of the protocol's paths. */
export const parsePath = (prefix: string, path: string):
  | { readonly ask: "manifest"; readonly object: string }
  | { readonly ask: "package"; readonly object: string; readonly version: string }
  | null => {
  if (!path.startsWith(`${prefix}/`)) return null
  const parts = path.slice(prefix.length + 1).split("/")
  if (parts[0] === "manifest" && parts.length === 2 && parts[1] !== "") return { ask: "manifest", object: parts[1] ?? "" }
  if (parts[0] === "package" && parts.length === 3 && parts[1] !== "" && parts[2] !== "") return { ask: "package", object: parts[1] ?? "", version: parts[2] ?? "" }
  return null
}
