/**
 * Results: one JSON line per result as it is measured, then a readable table.
 *
 * Shape of a line (stable; kept from the first version of the suite): `{id, workload, ...metrics,
 * smoke}`. `id` is the short name (`W1-single`, `W4`, `limits-sqlite`, ...), `workload` a label
 * for people, and each metric a number whose unit ends its name (`PerSec`, `Ms`, `Seconds`,
 * `MiB`; `Ratio` is a plain fraction). A metric that could not be measured is left out.
 */
export interface Result {
  id: string;
  workload: string;
  [metric: string]: number | string | undefined;
}

export class Report {
  private readonly results: Result[] = [];

  constructor(private readonly smoke: boolean) {}

  add(result: Result): void {
    this.results.push(result);
    console.log(JSON.stringify({ ...result, smoke: this.smoke }));
  }

  find(id: string): Result | undefined {
    return this.results.find((result) => result.id === id);
  }

  printTable(): void {
    console.log("");
    for (const { id, workload, ...metrics } of this.results) {
      const shown = Object.entries(metrics).filter(([, value]) => value !== undefined);
      console.log(`${`${id}  ${workload}`.padEnd(56)} ${shown.map(([key, value]) => `${key}=${value}`).join("  ")}`);
    }
  }
}

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** `numerator / denominator` rounded to 3 digits, or undefined when either is missing. */
export function ratio(numerator: unknown, denominator: unknown): number | undefined {
  if (typeof numerator !== "number" || typeof denominator !== "number" || denominator === 0) return undefined;
  return round(numerator / denominator, 3);
}
