import { describe, expect, it } from 'vitest';
import { foldIn, key } from '../src/core/random.js';
import {
  StableParameterError,
  coordinatewiseStable,
  isotropicStable,
  stable,
  subGaussianMixingScale,
  symmetricStable,
} from '../src/core/stable.js';

/** Sample mean of f(x) and its Monte Carlo standard error sd(f)/√n (draws are independent). */
function meanAndMcse(xs: ArrayLike<number>, f: (x: number) => number): { mean: number; mcse: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < xs.length; i++) {
    const y = f(xs[i]);
    s += y;
    s2 += y * y;
  }
  const mean = s / xs.length;
  const variance = s2 / xs.length - mean * mean;
  return { mean, mcse: Math.sqrt(variance / xs.length) };
}

/** erf by its Taylor series (exact to ~1e-12 for |x| ≤ 3, enough for CDF checks at 1e-3). */
function erf(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 80; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

function empiricalCdf(xs: Float64Array, x: number): number {
  let count = 0;
  for (const v of xs) if (v <= x) count++;
  return count / xs.length;
}

// 4.5 standard errors: with ~60 checks in this file the chance of any false failure is ≈ 4e-4.
const Z = 4.5;

describe('stable: Chambers–Mallows–Stuck', () => {
  it('α = 2 is N(0, 2σ²): variance 2σ² within MCSE', () => {
    const scale = 1.5;
    const n = 200_000;
    const x = stable(key(11), n, { alpha: 2, scale });
    const m = meanAndMcse(x, (v) => v);
    const second = meanAndMcse(x, (v) => v * v);
    expect(Math.abs(m.mean)).toBeLessThan(Z * m.mcse);
    // E X² = 2σ²; MCSE of the mean of X² from its sample sd.
    expect(Math.abs(second.mean - 2 * scale * scale)).toBeLessThan(Z * second.mcse);
  });

  it('α = 1, β = 0 is Cauchy: the empirical CDF at the exact quantiles μ + σ tan(π(p − 1/2)) is p', () => {
    const scale = 2;
    const loc = 1;
    const n = 100_000;
    const x = stable(key(12), n, { alpha: 1, beta: 0, scale, loc });
    for (const p of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]) {
      const q = loc + scale * Math.tan(Math.PI * (p - 0.5));
      // Binomial standard error of an empirical CDF value.
      expect(Math.abs(empiricalCdf(x, q) - p)).toBeLessThan(Z * Math.sqrt((p * (1 - p)) / n));
    }
  });

  it('α = 1/2, β = 1 is the Lévy law: CDF erfc(√(c / 2x)) and no negative draws', () => {
    const c = 1.5;
    const n = 100_000;
    const x = stable(key(13), n, { alpha: 0.5, beta: 1, scale: c });
    expect(x.every((v) => v >= 0)).toBe(true);
    for (const z of [0.3, 0.6, 1, 1.5, 2.2]) {
      const at = c / (2 * z * z);
      const p = 1 - erf(z);
      expect(Math.abs(empiricalCdf(x, at) - p)).toBeLessThan(Z * Math.sqrt((p * (1 - p)) / n));
    }
  });

  it.each([0.7, 1.2, 1.5, 1.8, 2])(
    'symmetric α = %s: E cos(tX) = exp(−|σt|^α) within MCSE',
    (alpha) => {
      const scale = 1.3;
      const n = 100_000;
      const x = symmetricStable(foldIn(key(14), Math.round(alpha * 10)), n, alpha, scale);
      for (const t of [0.3, 0.8, 1.6]) {
        const { mean, mcse } = meanAndMcse(x, (v) => Math.cos(t * v));
        expect(Math.abs(mean - Math.exp(-((scale * t) ** alpha)))).toBeLessThan(Z * mcse);
        const odd = meanAndMcse(x, (v) => Math.sin(t * v));
        expect(Math.abs(odd.mean)).toBeLessThan(Z * odd.mcse);
      }
    },
  );

  it.each([
    [1.5, 0.7, 0.8, -0.5],
    [0.8, -0.6, 1.2, 0.3],
    [1, 0.5, 2, 0.4],
    [1, -1, 0.5, 0],
  ])('skewed α = %s, β = %s, σ = %s, μ = %s: real and imaginary parts of the characteristic function', (alpha, beta, scale, loc) => {
    const n = 100_000;
    const x = stable(foldIn(key(15), Math.round(alpha * 100 + beta * 10)), n, { alpha, beta, scale, loc });
    for (const t of [0.4, 1.1]) {
      // log φ(t) = −σ^α|t|^α + i(σ^α|t|^α β tan(πα/2) + μt) for α ≠ 1 (t > 0);
      // for α = 1, −σt + i(−σβ(2/π) t log t + μt).
      const modulus = Math.exp(-((scale * t) ** alpha));
      const phase =
        alpha === 1
          ? -scale * beta * (2 / Math.PI) * t * Math.log(t) + loc * t
          : (scale * t) ** alpha * beta * Math.tan((Math.PI * alpha) / 2) + loc * t;
      const re = meanAndMcse(x, (v) => Math.cos(t * v));
      const im = meanAndMcse(x, (v) => Math.sin(t * v));
      expect(Math.abs(re.mean - modulus * Math.cos(phase))).toBeLessThan(Z * re.mcse);
      expect(Math.abs(im.mean - modulus * Math.sin(phase))).toBeLessThan(Z * im.mcse);
    }
  });

  it('is counter-based: draw i depends only on (key, i); same key, same bits', () => {
    const k = key(16);
    const long = stable(k, 50, { alpha: 1.3, beta: 0.2 });
    const short = stable(k, 7, { alpha: 1.3, beta: 0.2 });
    expect(Array.from(short)).toEqual(Array.from(long.subarray(0, 7)));
    expect(Array.from(symmetricStable(k, 9, 1.7, 2))).toEqual(Array.from(stable(k, 9, { alpha: 1.7, scale: 2 })));
    const out = new Float64Array(12);
    expect(stable(k, 12, { alpha: 1.3, beta: 0.2 }, out)).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(long.subarray(0, 12)));
    expect(stable(foldIn(k, 1), 1, { alpha: 1.3 })[0]).not.toBe(stable(k, 1, { alpha: 1.3 })[0]);
  });

  it('draws are finite even at extreme α and β', () => {
    for (const [alpha, beta] of [
      [0.3, 1],
      [0.3, -1],
      [1.999, 1],
      [1.01, 1],
      [0.99, -1],
    ]) {
      const x = stable(key(17), 20_000, { alpha, beta });
      expect(x.every((v) => !Number.isNaN(v))).toBe(true);
    }
  });

  it('rejects bad parameters with a message naming the parameter', () => {
    const k = key(0);
    expect(() => stable(k, 3, { alpha: 0 })).toThrow(StableParameterError);
    expect(() => stable(k, 3, { alpha: 2.5 })).toThrow(/alpha must be in \(0, 2\], got 2.5/);
    expect(() => stable(k, 3, { alpha: 1.5, beta: 1.2 })).toThrow(/beta/);
    expect(() => stable(k, 3, { alpha: 1.5, scale: -1 })).toThrow(/scale/);
    expect(() => stable(k, 3, { alpha: 1.5, loc: Number.NaN })).toThrow(/loc/);
    expect(() => stable(k, -1, { alpha: 1.5 })).toThrow(/size/);
    expect(() => stable(k, 4, { alpha: 1.5 }, new Float64Array(2))).toThrow(/out has length 2/);
    expect(() => isotropicStable(k, 3, 0)).toThrow(/isotropicStable: alpha/);
  });
});

describe('isotropic and coordinate-wise α-stable vectors', () => {
  const u = [1 / 3, 2 / 3, -2 / 3];

  function projections(alpha: number, n: number, seed: number): Float64Array {
    const out = new Float64Array(n);
    const buffer = new Float64Array(3);
    for (let i = 0; i < n; i++) {
      isotropicStable(foldIn(key(seed), i), 3, alpha, buffer);
      out[i] = u[0] * buffer[0] + u[1] * buffer[1] + u[2] * buffer[2];
    }
    return out;
  }

  it.each([1.2, 1.6, 1.9])(
    'α = %s: the projection on a unit vector has E cos(t uᵀL) = exp(−|t|^α) (unit scale, not 2^{−1/2})',
    (alpha) => {
      const n = 60_000;
      const proj = projections(alpha, n, 20 + Math.round(alpha * 10));
      for (const t of [0.5, 1.2]) {
        const { mean, mcse } = meanAndMcse(proj, (v) => Math.cos(t * v));
        expect(Math.abs(mean - Math.exp(-(t ** alpha)))).toBeLessThan(Z * mcse);
        // Samorodnitsky–Taqqu's mixing scale cos(πα/4)^{2/α} would give exp(−2^{−α/2}|t|^α): ruled out.
        expect(Math.abs(mean - Math.exp(-(2 ** (-alpha / 2)) * t ** alpha))).toBeGreaterThan(8 * mcse);
      }
    },
  );

  it('α = 2 gives N(0, 2 I): each coordinate has variance 2', () => {
    const n = 30_000;
    const first = new Float64Array(n);
    const cross = new Float64Array(n);
    const buffer = new Float64Array(2);
    for (let i = 0; i < n; i++) {
      isotropicStable(foldIn(key(30), i), 2, 2, buffer);
      first[i] = buffer[0];
      cross[i] = buffer[0] * buffer[1];
    }
    const second = meanAndMcse(first, (v) => v * v);
    expect(Math.abs(second.mean - 2)).toBeLessThan(Z * second.mcse);
    const c = meanAndMcse(cross, (v) => v);
    expect(Math.abs(c.mean)).toBeLessThan(Z * c.mcse);
  });

  it('coordinates of the isotropic vector share the mixing variable: |L₁| and |L₂| are dependent for α < 2', () => {
    const n = 30_000;
    const a = new Float64Array(n);
    const b = new Float64Array(n);
    const buffer = new Float64Array(2);
    for (let i = 0; i < n; i++) {
      isotropicStable(foldIn(key(31), i), 2, 1.5, buffer);
      a[i] = Math.abs(buffer[0]) > 3 ? 1 : 0;
      b[i] = Math.abs(buffer[0]) > 3 && Math.abs(buffer[1]) > 3 ? 1 : 0;
    }
    const pa = a.reduce((s, v) => s + v, 0) / n;
    const pab = b.reduce((s, v) => s + v, 0) / n;
    // Independent coordinates would give P(both) = P(one)²; the shared √φ makes it much larger.
    expect(pab).toBeGreaterThan(3 * pa * pa);
  });

  it('coordinate-wise noise has independent S_α(1, 0, 0) coordinates', () => {
    const alpha = 1.4;
    const x = coordinatewiseStable(key(32), 100_000, alpha);
    const { mean, mcse } = meanAndMcse(x, (v) => Math.cos(0.9 * v));
    expect(Math.abs(mean - Math.exp(-(0.9 ** alpha)))).toBeLessThan(Z * mcse);
  });

  it('the mixing scale is 2 cos(πα/4)^{2/α}', () => {
    expect(subGaussianMixingScale(1)).toBeCloseTo(2 * Math.cos(Math.PI / 4) ** 2, 14);
    expect(subGaussianMixingScale(2)).toBeCloseTo(0, 14);
  });
});
