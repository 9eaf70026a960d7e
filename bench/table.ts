/** The benchmark's plain-text tables: columns padded to their widest cell, numbers right-aligned, two spaces apart, a dashed rule under the header. */

/** The table's lines (header, rule, one per row), each ending in a newline; `numeric` are the indexes of right-aligned columns. */
export const formatTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, numeric: ReadonlySet<number>): string[] => {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((cell) => (cell[i] ?? "").length)))
  const line = (cell: ReadonlyArray<string>) =>
    cell.map((text, i) => (numeric.has(i) ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0))).join("  ").trimEnd()
  return [`${line(header)}\n${widths.map((width) => "-".repeat(width)).join("  ")}\n`, ...rows.map((cell) => `${line(cell)}\n`)]
}
