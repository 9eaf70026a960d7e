/**
 * A small seeded pseudo-random generator (mulberry32), so an emulated device produces the same
 * logs on every run of a scenario: reproducible labs, stable test results.
 */
export const seededRandom = (seed: string): (() => number) => {
  let state = 0x9e3779b9
  for (let i = 0; i < seed.length; i++) state = Math.imul(state ^ seed.charCodeAt(i), 0x85ebca6b)
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
