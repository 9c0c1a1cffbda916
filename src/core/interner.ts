// One copy of each distinct string among many records (issue 22): the namespaces, dag_ids, run_ids
// and states of 150,000 pods and their task instances repeat, and each parsed copy costs its bytes.

/** A lookup that returns the first copy seen of each value; drop it with the batch it served. */
export function interner(): (value: string) => string {
  const seen = new Map<string, string>()
  return (value) => {
    const known = seen.get(value)
    if (known !== undefined) return known
    seen.set(value, value)
    return value
  }
}
