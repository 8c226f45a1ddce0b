// The plain-text records the native front-end reads (exec record, start plan): one "key value" per
// line, no quoting. A value holding a newline or NUL cannot be written: then there is no record,
// and the TypeScript path, which needs none, serves the guest.

export function keyValueText(lines: string[]): string | undefined {
  if (lines.some((l) => /[\n\0]/.test(l))) return undefined;
  return lines.join("\n") + "\n";
}
