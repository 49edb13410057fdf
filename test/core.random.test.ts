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

describe('uniform and normal streams', () => {
  // Draws as first released, one Threefry block per uniform: the streams must not change
  // (checkpoints and published runs replay them).
  it('keep the bits of the released streams', () => {
    expect(Array.from(normal(key(2024), 7))).toEqual([
      -0.07048810239193148, -1.2412889784099626, 1.2655428663750996, 0.13451336817420773, -1.6290731637904994,
      0.6272059628922889, -0.6962534946962754,
    ]);
    expect(Array.from(uniform(key(2024), 5))).toEqual([0.46167991612613757, 0.7409718891441581, 0.44492644775309, 0.016853154774163492, 0.21791867278101706]);
    expect(Array.from(normal(foldIn(key(7), 123456), 5))).toEqual([
      -0.38461132864685393, 3.2341720234679854, -1.4484666646893192, 0.36684733925533647, -0.33320953868756475,
    ]);
  });

  it('uniform draw i uses counter i; normal draw i is Box–Muller on counters 2⌊i/2⌋ and 2⌊i/2⌋ + 1 (odd and even n)', () => {
    const k = foldIn(key(3), 99);
    const block = new Uint32Array(2);
    const bits53 = (counter: number): number => {
      threefry2x32(k.hi, k.lo, counter, 0, block);
      return (block[0] >>> 5) * 67108864 + (block[1] >>> 6);
    };
    for (const n of [1, 2, 9, 64]) {
      const u = uniform(k, n);
      for (let i = 0; i < n; i++) expect(Object.is(u[i], bits53(i) / 2 ** 53), `uniform n = ${n}, draw ${i}`).toBe(true);
      const z = normal(k, n);
      for (let i = 0; i < n; i++) {
        const j = i >> 1;
        const u1 = (bits53(2 * j) + 1) / 2 ** 53;
        const u2 = bits53(2 * j + 1) / 2 ** 53;
        const r = Math.sqrt(-2 * Math.log(u1));
        const expected = i % 2 === 0 ? r * Math.cos(2 * Math.PI * u2) : r * Math.sin(2 * Math.PI * u2);
        expect(Object.is(z[i], expected), `n = ${n}, draw ${i}`).toBe(true);
      }
    }
  });
});
