// Figure specs, SVG rendering and the HTML page builders of src/report.
import { describe, expect, it } from 'vitest';
import { foldIn, key, normal } from '../src/core/random.js';
import { densitySpec, FigureDataError, lineSpec, pairSpec, rankSpec, reliabilitySpec, spectrumSpec, traceSpec, barSpec } from '../src/report/figures.js';
import { escapeHtml, formatCell, htmlPage, htmlTable } from '../src/report/html.js';
import { FigureError, renderSvg } from '../src/report/vega.js';
import { experimentReportHtml, ExperimentReportError } from '../src/report/experiment.js';

type Layered = { layer: { data: { values: Record<string, number | string>[] } }[] };

function chainsOf(seed: number, count: number, length: number, shift = 0): Float64Array[] {
  return Array.from({ length: count }, (_, k) => normal(foldIn(key(seed), k), length).map((v) => v + (k === 0 ? shift : 0)));
}

describe('rankSpec', () => {
  it('counts every draw once and is flat for well-mixed chains', () => {
    const chains = chainsOf(1, 4, 1000);
    const bins = 20;
    const spec = rankSpec('θ', chains, bins) as unknown as Layered;
    const rows = spec.layer[0].data.values.filter((r) => (r.bin as number) < bins);
    expect(rows.reduce((s, r) => s + (r.count as number), 0)).toBe(4000);
    // i.i.d. chains: each bin count is Binomial(1000, 1/20), sd √(1000·0.05·0.95) ≈ 6.9 around 50;
    // the Pearson χ² over 80 cells has mean 76 (4 chains × 19 dof) and sd ≈ 12.3: allow mean + 4 sd.
    const chi2 = rows.reduce((s, r) => s + ((r.count as number) - 50) ** 2 / 50, 0);
    expect(chi2).toBeLessThan(76 + 4 * 12.3);
  });

  it('shows a chain stuck in another place as a skewed histogram', () => {
    const chains = chainsOf(2, 4, 1000, 1.5);
    const spec = rankSpec('θ', chains, 10) as unknown as Layered;
    const top = spec.layer[0].data.values.find((r) => r.chain === '0' && r.bin === 9);
    // Chain 0 shifted by 1.5 sd holds most of the top decile of ranks.
    expect(top?.count as number).toBeGreaterThan(250);
  });

  it('gives ties their average rank', () => {
    const spec = rankSpec('θ', [new Float64Array(10).fill(1), new Float64Array(10).fill(1)], 4) as unknown as Layered;
    const rows = spec.layer[0].data.values.filter((r) => (r.count as number) > 0 && (r.bin as number) < 4);
    // All 20 draws tie at rank 9.5 of 20, which is bin ⌊9.5/20 · 4⌋ = 1.
    expect(rows.map((r) => r.bin)).toEqual([1, 1]);
  });
});

describe('figure specs render to SVG', () => {
  it('trace, density with reference, pair with contours and the spectrum render', async () => {
    const chains = chainsOf(3, 2, 400);
    const second = chainsOf(4, 2, 400);
    const reference2 = { mean: [0, 0] as const, cov: [1, 0.3, 0.3, 1] as const, label: 'exact' };
    for (const spec of [
      traceSpec('θ₁', chains),
      densitySpec('θ₁', chains, { mean: 0, sd: 1, label: 'exact posterior' }),
      pairSpec(['θ₁', 'θ₂'], chains, second, reference2),
      spectrumSpec([3, 1, 0.1]),
    ]) {
      const svg = await renderSvg(spec);
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('</svg>');
      expect(svg).not.toMatch(/<script|href="http|xlink:href="http/);
    }
    const pair = await renderSvg(pairSpec(['a', 'b'], chains, second, reference2));
    expect(pair).toContain('exact 90%');
  });

  it('the trace keeps at most maxPoints points per chain', () => {
    const spec = traceSpec('θ', chainsOf(5, 3, 10_000), undefined, 100) as unknown as { data: { values: unknown[] } };
    expect(spec.data.values.length).toBeLessThanOrEqual(300);
    expect(spec.data.values.length).toBeGreaterThanOrEqual(297);
  });

  it('rejects bad data and bad specs with errors that name the figure', async () => {
    expect(() => traceSpec('θ', [])).toThrow(FigureDataError);
    expect(() => densitySpec('θ', [new Float64Array(0)])).toThrow(/chain 0 has no draws/);
    expect(() => densitySpec('θ', [new Float64Array([1, 2])], { mean: 0, sd: 0, label: 'x' })).toThrow(/sd > 0/);
    expect(() => pairSpec(['a', 'b'], [new Float64Array(3)], [new Float64Array(4)])).toThrow(/differ in shape/);
    expect(() => reliabilitySpec([{ lower: 0, upper: 1, count: 0, meanConfidence: NaN, accuracy: NaN }])).toThrow(/empty/);
    expect(() => lineSpec({ title: 'T', data: [{ a: 1 }], x: 'a', y: 'b' })).toThrow(/'b'/);
    await expect(renderSvg({ mark: 'nonsense' } as never, 'my figure')).rejects.toThrow(FigureError);
    await expect(renderSvg({ mark: 'nonsense' } as never, 'my figure')).rejects.toThrow(/my figure/);
  });

  it('bar charts group by color with an x offset', () => {
    const spec = barSpec({ title: 'B', data: [{ m: 'a', v: 1, g: 'x' }], x: 'm', y: 'v', color: 'g' }) as unknown as { encoding: Record<string, unknown> };
    expect(spec.encoding.xOffset).toEqual({ field: 'g', type: 'nominal' });
  });
});

describe('HTML', () => {
  it('escapes text and formats numbers', () => {
    expect(escapeHtml('<a href="x">&\'</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
    expect(formatCell(1.23456789)).toBe('1.235');
    expect(formatCell(12)).toBe('12');
    expect(formatCell(1e-7)).toBe('1.000e-7');
    expect(formatCell(Infinity)).toBe('∞');
    expect(formatCell(NaN)).toBe('NaN');
  });

  it('tables escape cells, flag classes and the page is self-contained', () => {
    const table = htmlTable([{ name: '<b>', rhat: 1.2 }], undefined, (column, value) => (column === 'rhat' && (value as number) > 1.05 ? 'bad' : undefined));
    expect(table).toContain('&lt;b&gt;');
    expect(table).toContain('<td class="num bad">1.2</td>');
    const page = htmlPage({ title: 'T & U', sections: [{ title: 'S', html: table }] });
    expect(page).toContain('<title>T &amp; U</title>');
    expect(page).not.toMatch(/<script|<link|src="/);
  });

  it('experiment reports hold the table and the rendered figures', async () => {
    const rows = [
      { S: 1, kl: 0.5, method: 'a' },
      { S: 10, kl: 0.2, method: 'a' },
      { S: 1, kl: 0.4, method: 'b' },
    ];
    const html = await experimentReportHtml({
      title: 'OU check',
      description: 'KL against batch size',
      rows,
      figures: [{ spec: lineSpec({ title: 'KL vs S', data: rows, x: 'S', y: 'kl', color: 'method', logX: true }), caption: 'lower is better' }, { svg: '<svg id="given"></svg>' }],
      notes: ['seed 1'],
    });
    expect(html).toContain('<th>kl</th>');
    expect(html.match(/<svg/g)?.length).toBe(2);
    expect(html).toContain('lower is better');
    expect(html).toContain('<li>seed 1</li>');
    await expect(experimentReportHtml({ title: 'x', rows, figures: [{}] })).rejects.toThrow(ExperimentReportError);
  });
});
