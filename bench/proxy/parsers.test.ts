import { describe, expect, it } from "vitest";
import { parseHey } from "./hey";
import { parseDurationMs, parseWrk } from "./wrk";

const WRK = `Running 10s test @ http://127.0.0.1:8080/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.51ms    1.02ms  28.30ms   85.21%
    Req/Sec    12.85k     1.10k   15.02k    70.50%
  Latency Distribution
     50%    2.31ms
     75%    2.88ms
     90%    3.60ms
     99%  812.00us
  255839 requests in 10.00s, 52.21MB read
Requests/sec:  25583.37
Transfer/sec:      5.22MB
`;

const WRK_ERRORS = `Running 3s test @ http://127.0.0.1:8080/
  2 threads and 256 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   450.12ms  300.01ms   1.99s    70.00%
    Req/Sec     1.50k   400.00     2.00k    60.00%
  Latency Distribution
     50%  400.00ms
     75%  600.00ms
     90%  900.00ms
     99%    1.52s
  9000 requests in 3.01s, 1.80MB read
  Socket errors: connect 0, read 12, write 3, timeout 41
  Non-2xx or 3xx responses: 7
Requests/sec:   2990.03
Transfer/sec:    612.00KB
`;

describe("wrk output", () => {
  it("reads requests, rate and percentiles", () => {
    const r = parseWrk(WRK);
    expect(r.requests).toBe(255_839);
    expect(r.seconds).toBe(10);
    expect(r.rps).toBeCloseTo(25_583.37);
    expect(r.p50Ms).toBeCloseTo(2.31);
    expect(r.p99Ms).toBeCloseTo(0.812);
    expect(r.errors).toEqual({ connect: 0, read: 0, write: 0, timeout: 0, non2xx: 0 });
  });

  it("reads socket errors, non-2xx responses and seconds", () => {
    const r = parseWrk(WRK_ERRORS);
    expect(r.p99Ms).toBe(1520);
    expect(r.seconds).toBeCloseTo(3.01);
    expect(r.errors).toEqual({ connect: 0, read: 12, write: 3, timeout: 41, non2xx: 7 });
  });

  it("rejects output without --latency or a summary", () => {
    expect(() => parseWrk(WRK.replace(/^\s+99%.*$/m, ""))).toThrow(/99%/);
    expect(() => parseWrk("unable to connect to 127.0.0.1:1 Connection refused")).toThrow(/cannot parse/);
  });

  it("converts every unit wrk prints", () => {
    expect(parseDurationMs("500.00us")).toBeCloseTo(0.5);
    expect(parseDurationMs("3.00ms")).toBe(3);
    expect(parseDurationMs("2.00s")).toBe(2000);
    expect(parseDurationMs("1.50m")).toBe(90_000);
    expect(() => parseDurationMs("fast")).toThrow();
  });
});

describe("hey output", () => {
  it("reads the rate, status codes and errors", () => {
    const r = parseHey(`
Summary:
  Total:\t8.0031 secs
  Slowest:\t0.0210 secs
  Requests/sec:\t4987.1000

Status code distribution:
  [200]\t39900 responses
  [502]\t10 responses

Error distribution:
  [3]\tGet "http://127.0.0.1:1/": dial tcp: connection refused
`);
    expect(r.seconds).toBeCloseTo(8.0031);
    expect(r.rps).toBeCloseTo(4987.1);
    expect(r.statuses).toEqual({ "200": 39_900, "502": 10 });
    expect(r.ok).toBe(39_900);
    expect(r.errors).toBe(3);
  });
});
