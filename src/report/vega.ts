/**
 * Vega-Lite specs to SVG without a browser or a canvas: compile with vega-lite, run the dataflow in a
 * headless vega View (renderer 'none') and serialise the scene with `toSVG()`. The SVG needs no
 * network and no script, so a report that inlines it opens anywhere.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export type { TopLevelSpec };

/** A spec that vega-lite or vega rejected; the message names the figure. */
export class FigureError extends Error {
  override name = 'FigureError';
}

/** Default look of every figure: system fonts, light grid, no border. */
export const REPORT_CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif',
  view: { stroke: null },
  axis: { gridColor: '#e6e8eb', labelColor: '#3a4350', titleColor: '#1d2430', titleFontWeight: 600 },
  legend: { labelColor: '#3a4350', titleColor: '#1d2430' },
  title: { anchor: 'start', fontSize: 13, color: '#1d2430' },
  range: { category: ['#2456c9', '#e07b00', '#2a9d4b', '#c0143c', '#7b4bc4', '#8a5a2b', '#d14fa6', '#5d6b7a'] },
} as const;

/**
 * Render a Vega-Lite spec to an SVG string (Satyanarayan et al. 2017, "Vega-Lite: a grammar of
 * interactive graphics", IEEE TVCG 23). The report config is merged under the spec's own `config`.
 *
 * @param name - names the figure in errors.
 * @throws FigureError when the spec does not compile or the dataflow fails.
 */
export async function renderSvg(spec: TopLevelSpec, name = 'figure'): Promise<string> {
  let view: View;
  try {
    const withConfig = { ...spec, config: { ...REPORT_CONFIG, ...(spec as { config?: object }).config } } as unknown as TopLevelSpec;
    view = new View(parse(compile(withConfig).spec), { renderer: 'none' });
  } catch (error) {
    throw new FigureError(`${name}: the Vega-Lite spec does not compile: ${(error as Error).message}`);
  }
  try {
    return await view.toSVG();
  } catch (error) {
    throw new FigureError(`${name}: rendering failed: ${(error as Error).message}`);
  } finally {
    view.finalize();
  }
}
