// Small statistics the benchmarks print.

/** The p-th percentile of `xs` (nearest rank; p 50 of an odd count is its median). */
export const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** Milliseconds as a whole number, or ∞. */
export const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '∞');
