/** The parts of `autocannon` (no bundled types) the benchmarks use. */
declare module 'autocannon' {
  interface Result {
    requests: { average: number };
    latency: { p50: number; p99: number };
    errors: number;
    non2xx: number;
  }
  function autocannon(options: { url: string; headers?: Record<string, string>; connections?: number; duration?: number; pipelining?: number }): Promise<Result>;
  export default autocannon;
}
