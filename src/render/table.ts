// kubectl-style plain tables: upper-case headers, columns padded to the widest cell, three spaces apart.

export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h) => h.length)
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('   ')
      .trimEnd()
  return [line(headers), ...rows.map(line)].join('\n') + '\n'
}
