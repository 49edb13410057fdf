import { describe, expect, it } from 'vitest';
import { runHilbertExperiment } from '../src/hilbert/experiment.js';

// The claims of docs/hilbert-langevin.md on the `--quick` grid (seed 0), as run by `npm run test:slow`.
describe('hilbert-langevin experiment (quick grid)', () => {
  const result = runHilbertExperiment({ quick: true, seed: 0 });
  const width = result.rows.filter((r) => r.sweep === 'width');
  const at = (method: string, m: number) => width.find((r) => r.method === method && r.width === m)!;
  const widths = [...new Set(width.map((r) => r.width))].sort((a, b) => a - b);
  const [narrow, , wide] = widths;

  it('explicit SGLD diverges at the shared step once M is large; the semi-implicit scheme never does', () => {
    for (const m of widths) expect(at('hilbert-langevin', m).diverged).toBe(false);
    expect(at('sgld', narrow).diverged).toBe(false);
    for (const m of widths.slice(1)) expect(at('sgld', m).diverged).toBe(true);
  });

  it('the semi-implicit test loss barely moves with M; stable explicit SGLD needs smaller steps and degrades', () => {
    const losses = widths.slice(1).map((m) => at('hilbert-langevin', m).testLoss);
    expect(Math.abs(losses[1] - losses[0])).toBeLessThan(0.01 * losses[0]);
    expect(at('sgld-stable', wide).stepSize).toBeLessThan(at('sgld-stable', narrow).stepSize / 50);
    expect(at('sgld-stable', wide).excessRisk).toBeGreaterThan(2 * at('hilbert-langevin', wide).excessRisk);
  });

  it('the excess risk falls with n at least as fast as the bound’s n^{-1/2}', () => {
    const fit = result.fits.find((f) => f.task === 'regression')!;
    expect(fit.slope).toBeLessThan(-0.4);
    const classification = result.rows.filter((r) => r.sweep === 'n' && r.task === 'classification');
    expect(classification[classification.length - 1].excessRisk).toBeLessThan(classification[0].excessRisk);
  });
});
