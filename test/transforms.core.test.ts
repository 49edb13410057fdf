import { describe, expect, it } from 'vitest';
import {
  adam,
  applyPreconditioner,
  applyUpdates,
  chain,
  checkPreconditioner,
  meanStepSize,
  momentum,
  preconditionerMatrix,
  rmsDiagonal,
  scale,
  scaleByAdam,
  scaleByPreconditioner,
  scaleByRms,
  scaleBySchedule,
  sgd,
  TransformError,
} from '../src/transforms/index.js';
import type { Preconditioner } from '../src/transforms/index.js';
import type { Vec } from '../src/core/types.js';

const ctx = (step: number) => ({ step });


describe('scale, scaleBySchedule, sgd, chain', () => {
  it('scales by a constant and by a schedule evaluated at ctx.step', () => {
    const g = Float64Array.of(1, -2, 4);
    expect(Array.from(scale(0.5).update(g, null, g, ctx(0))[0])).toEqual([0.5, -1, 2]);
    const bySchedule = scaleBySchedule((t) => 1 / (t + 1));
    expect(Array.from(bySchedule.update(g, null, g, ctx(3))[0])).toEqual([0.25, -0.5, 1]);
    expect(Array.from(sgd({ lr: 0.1 }).update(g, null, g, ctx(0))[0])).toEqual([-0.1, 0.2, -0.4]);
    expect(() => bySchedule.update(g, null, g, ctx(-1))).toThrow(/schedule at step -1 is Infinity/);
  });

  it('chains transforms in order and threads each state', () => {
    // momentum then scale(−0.1): u_t = −0.1 v_t, v_t = 0.5 v_{t−1} + g_t.
    const opt = chain(momentum({ decay: 0.5 }), scale(-0.1));
    const params = Float64Array.of(0, 0);
    let state = opt.init(params);
    const [u1, s1] = opt.update(Float64Array.of(1, 2), state, params, ctx(0));
    expect(Array.from(u1)).toEqual([-0.1, -0.2]);
    state = s1;
    const [u2, s2] = opt.update(Float64Array.of(1, 0), state, params, ctx(1));
    expect(u2[0]).toBeCloseTo(-0.15, 15);
    expect(u2[1]).toBeCloseTo(-0.1, 15);
    expect(Array.from(s2[0].trace)).toEqual([1.5, 1]);
    expect(s2[1]).toBeNull();
    // The empty chain is the identity but returns a fresh array.
    const g = Float64Array.of(3);
    const [u] = chain().update(g, [], g, ctx(0));
    expect(u).not.toBe(g);
    expect(Array.from(u)).toEqual([3]);
    expect(() => opt.update(g, [] as never, g, ctx(0))).toThrow(/state has 0 entries, the chain has 2/);
  });

  it('applyUpdates adds and checks lengths', () => {
    expect(Array.from(applyUpdates(Float64Array.of(1, 2), Float64Array.of(0.5, -1)))).toEqual([1.5, 1]);
    expect(() => applyUpdates(Float64Array.of(1), Float64Array.of(1, 2))).toThrow(TransformError);
  });
});

describe('momentum', () => {
  it('is the heavy-ball trace, with the Nesterov variant', () => {
    const heavy = momentum({ decay: 0.9 });
    const nesterov = momentum({ decay: 0.9, nesterov: true });
    const p = Float64Array.of(0);
    let s = heavy.init(p);
    let sn = nesterov.init(p);
    let v = 0;
    for (const g of [1, -0.5, 2]) {
      v = 0.9 * v + g;
      const [u, next] = heavy.update(Float64Array.of(g), s, p, ctx(0));
      const [un, nextN] = nesterov.update(Float64Array.of(g), sn, p, ctx(0));
      expect(u[0]).toBeCloseTo(v, 14);
      expect(un[0]).toBeCloseTo(0.9 * v + g, 14);
      s = next;
      sn = nextN;
    }
    expect(() => momentum({ decay: 1 })).toThrow(/decay must be in \[0, 1\), got 1/);
  });
});

describe('scaleByRms', () => {
  it('keeps V = αV + (1−α)g² and scales by 1/(λ + √V) (Li et al. 2016, Eq. 4)', () => {
    const rms = scaleByRms({ decay: 0.9, eps: 1e-3 });
    const p = Float64Array.of(0, 0);
    const s0 = rms.init(p);
    const [u1, s1] = rms.update(Float64Array.of(2, -1), s0, p, ctx(0));
    const v1 = [0.1 * 4, 0.1 * 1];
    expect(s1.meanSquare[0]).toBeCloseTo(v1[0], 15);
    expect(u1[0]).toBeCloseTo(2 / (1e-3 + Math.sqrt(v1[0])), 12);
    const [, s2] = rms.update(Float64Array.of(0, 3), s1, p, ctx(1));
    expect(s2.meanSquare[1]).toBeCloseTo(0.9 * v1[1] + 0.1 * 9, 15);
    const G = rmsDiagonal(s2, rms.eps);
    expect(G[1]).toBeCloseTo(1 / (1e-3 + Math.sqrt(0.9 * v1[1] + 0.1 * 9)), 12);
    expect(Array.from(s0.meanSquare)).toEqual([0, 0]); // the old state is untouched
    expect(() => rms.update(Float64Array.of(1), s1, p, ctx(0))).toThrow(/gradient has length 1, the transform state was built for 2/);
    expect(() => scaleByRms({ eps: 0 })).toThrow(/eps must be a finite number > 0/);
  });
});

describe('adam', () => {
  it('matches Kingma & Ba Alg. 1 step by step, and minimises a quadratic', () => {
    const b1 = 0.9;
    const b2 = 0.999;
    const eps = 1e-8;
    const lr = 0.01;
    const opt = adam({ lr, b1, b2, eps });
    let theta: Vec = Float64Array.of(1, -3);
    let state = opt.init(theta);
    let m = [0, 0];
    let v = [0, 0];
    const grads = [
      [0.5, -2],
      [0.1, 1],
      [-0.3, 0.2],
    ];
    grads.forEach((g, t) => {
      const [u, next] = opt.update(Float64Array.from(g), state, theta, ctx(t));
      m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]);
      v = v.map((vi, i) => b2 * vi + (1 - b2) * g[i] * g[i]);
      for (let i = 0; i < 2; i++) {
        const expected = (-lr * (m[i] / (1 - b1 ** (t + 1)))) / (Math.sqrt(v[i] / (1 - b2 ** (t + 1))) + eps);
        expect(u[i]).toBeCloseTo(expected, 14);
      }
      state = next;
    });
    // Descends f(θ) = ½‖θ − c‖²: after 2000 steps at lr 0.01 θ is within 0.05 of c.
    const c = [2, -1];
    const descent = adam({ lr: 0.01 });
    theta = Float64Array.of(0, 0);
    let s = descent.init(theta);
    for (let t = 0; t < 2000; t++) {
      const g = Float64Array.from(theta, (x, i) => x - c[i]);
      const [u, next] = descent.update(g, s, theta, ctx(t));
      theta = applyUpdates(theta, u);
      s = next;
    }
    expect(Math.abs(theta[0] - 2)).toBeLessThan(0.05);
    expect(Math.abs(theta[1] + 1)).toBeLessThan(0.05);
    expect(() => scaleByAdam({ b1: 1.5 })).toThrow(/b1 must be in \[0, 1\)/);
  });
});

describe('preconditioners', () => {
  const g = Float64Array.of(1, 2);
  const cases: [Preconditioner, number[], number][] = [
    [{ kind: 'scalar', rate: 0.5 }, [0.5, 1], 0.5],
    [{ kind: 'diagonal', h: Float64Array.of(2, 0.25) }, [2, 0.5], 1.125],
    [{ kind: 'full', H: Float64Array.of(2, 1, 1, 3) }, [4, 7], 2.5],
  ];

  it.each(cases)('applies H g for %o and reports the mean diagonal', (p, expected, mean) => {
    expect(Array.from(applyPreconditioner(p, g))).toEqual(expected);
    const t = scaleByPreconditioner(p);
    const s = t.init(Float64Array.of(0, 0));
    const [u, s2] = t.update(g, s, g, ctx(0));
    expect(Array.from(u)).toEqual(expected);
    expect(s2).toBe(s);
    expect(meanStepSize(p, 2)).toBe(mean);
    expect(Array.from(g)).toEqual([1, 2]); // the gradient is not mutated
    const dense = preconditionerMatrix(p, 2);
    expect(Array.from(applyPreconditioner({ kind: 'full', H: dense }, g))).toEqual(expected);
  });

  it('rejects malformed preconditioners with messages naming the problem', () => {
    expect(() => checkPreconditioner({ kind: 'scalar', rate: -1 }, 2, 'here')).toThrow(/here: scalar preconditioner rate must be a finite number > 0, got -1/);
    expect(() => checkPreconditioner({ kind: 'diagonal', h: Float64Array.of(1) }, 2, 'here')).toThrow(/length 2, got length 1/);
    expect(() => checkPreconditioner({ kind: 'diagonal', h: Float64Array.of(1, Number.NaN) }, 2, 'x')).toThrow(/h\[1\] must be a finite number ≥ 0, got NaN/);
    expect(() => checkPreconditioner({ kind: 'diagonal', h: Float64Array.of(0, 0) }, 2, 'x')).toThrow(/all zeros/);
    expect(() => checkPreconditioner({ kind: 'full', H: Float64Array.of(1, 2, 3, 4) }, 2, 'x')).toThrow(/not symmetric: H\[0, 1\] = 2, H\[1, 0\] = 3/);
    expect(() => checkPreconditioner({ kind: 'cubic' } as never, 2, 'x')).toThrow(/unknown preconditioner kind 'cubic'/);
    expect(() => scaleByPreconditioner({ kind: 'full', H: Float64Array.of(1) }).init(Float64Array.of(0, 0))).toThrow(TransformError);
  });
});
