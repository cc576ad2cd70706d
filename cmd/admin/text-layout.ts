/**
 * Layout pieces shared by the admin commands' human and plain outputs: aligned tables, and
 * escaping that keeps one value on one line (or in one column).
 */

export type Align = "left" | "right";

/**
 * Columns separated by two spaces, each line prefixed with `indent`; the first row is the
 * header. `align[i]` defaults to left (text reads left to right; counts line up on their last
 * digit when right-aligned).
 */
export function renderTable(rows: readonly (readonly string[])[], options: { indent?: string; align?: readonly Align[] } = {}): string {
  const widths = (rows[0] ?? []).map((_, index) => Math.max(...rows.map((row) => (row[index] ?? "").length)));
  const pad = (cell: string, index: number) =>
    options.align?.[index] === "right" ? cell.padStart(widths[index] ?? 0) : cell.padEnd(widths[index] ?? 0);
  return rows.map((row) => (options.indent ?? "") + row.map(pad).join("  ").trimEnd() + "\n").join("");
}

/** Keeps free text on one line: strings with control characters become JSON string literals. */
export function escapeControlCharacters(text: string): string {
  return /[\u0000-\u001f\u007f]/.test(text) ? JSON.stringify(text) : text;
}

/** Keeps text to one space-separated column: text with whitespace or quotes becomes a JSON string literal. */
export function escapeColumn(text: string): string {
  return /[\s\u0000-\u001f\u007f"]/.test(text) || text === "" ? JSON.stringify(text) : text;
}

/** Shortens text for a table cell, marking the cut with an ellipsis. */
export function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : text.slice(0, maxChars - 1) + "…";
}
