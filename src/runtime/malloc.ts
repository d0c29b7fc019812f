// Whether this process runs with the malloc settings scripts/launch.sh gives
// it (why: see there). glibc reads them only at process start, so all the bot
// can do at run time is say whether they are set.

export interface MallocTuning {
  /** The C library is glibc (the variables mean nothing to others). */
  glibc: boolean;
  mmapThreshold: string | undefined;
  trimThreshold: string | undefined;
}

export function mallocTuning(env: NodeJS.ProcessEnv = process.env): MallocTuning {
  const { header } = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  return { glibc: header?.glibcVersionRuntime !== undefined, mmapThreshold: env.MALLOC_MMAP_THRESHOLD_, trimThreshold: env.MALLOC_TRIM_THRESHOLD_ };
}
