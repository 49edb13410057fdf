import { describe, expect, it } from 'vitest';
import { foldIn, key, normal, split, threefry2x32, uniform } from '../src/core/random.js';

describe('threefry2x32', () => {
  // Known-answer vectors of Threefry-2x32-20 published with Random123 (kat_vectors).
  const cases: [number[], number[], number[]][] = [
    [[0, 0], [0, 0], [0x6b200159, 0x99ba4efe]],
    [[0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x1cb996fc, 0xbb002be7]],
    [[0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3], [0xc4923a9c, 0x483df7a0]],
  ];
  it.each(cases)('key %j counter %j', (k, c, expected) => {
    const out = new Uint32Array(2);
    threefry2x32(k[0], k[1], c[0], c[1], out);
    expect(Array.from(out)).toEqual(expected);
  });
});

describe('keys', () => {
  it('same seed, same bits; different seeds differ', () => {
    expect(Array.from(uniform(key(7), 5))).toEqual(Array.from(uniform(key(7), 5)));
    expect(uniform(key(7), 1)[0]).not.toBe(uniform(key(8), 1)[0]);
  });
  it('split and foldIn give distinct keys', () => {
    const k = key(1);
    const [a, b] = split(k, 2);
    const seen = new Set([k, a, b, foldIn(k, 0), foldIn(k, 1)].map((x) => `${x.hi}:${x.lo}`));
    expect(seen.size).toBe(5);
  });
  it('rejects bad seeds', () => {
    expect(() => key(-1)).toThrow(/seed/);
    expect(() => key(1.5)).toThrow(/seed/);
  });
  it('uniforms have mean 1/2 and variance 1/12 within Monte Carlo error', () => {
    const n = 200_000;
    const u = uniform(key(3), n);
    let m = 0;
    for (const x of u) m += x;
    m /= n;
    let v = 0;
    for (const x of u) v += (x - m) ** 2;
    v /= n - 1;
    expect(Math.abs(m - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    // sd of the sample variance of U(0,1): sqrt((1/80 - 1/144)/n)
    expect(Math.abs(v - 1 / 12)).toBeLessThan(4 * Math.sqrt((1 / 80 - 1 / 144) / n));
  });
  it('normals have mean 0, variance 1 and kurtosis 3 within Monte Carlo error', () => {
    const n = 200_001;
    const z = normal(key(11), n);
    let m = 0, m2 = 0, m4 = 0;
    for (const x of z) { m += x; m2 += x * x; m4 += x ** 4; }
    m /= n; m2 /= n; m4 /= n;
    expect(Math.abs(m)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(m2 - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    expect(Math.abs(m4 - 3)).toBeLessThan(4 * Math.sqrt(96 / n));
  });
});
