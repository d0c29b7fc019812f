// Environments for child processes: what a child must not inherit is removed
// by name (a C library or TensorFlow reads it once, at the child's start).

/** A copy of `env` without the variables in `names`. */
export function withoutVariables(env: NodeJS.ProcessEnv, names: Iterable<string>): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of names) delete copy[name];
  return copy;
}
